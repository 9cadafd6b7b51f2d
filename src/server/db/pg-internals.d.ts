/** pg's crypto helpers (used by its SCRAM authentication); replaced in pg-scram.ts. */
declare module 'pg/lib/crypto/utils.js' {
  const utils: Record<string, unknown>;
  export default utils;
}
