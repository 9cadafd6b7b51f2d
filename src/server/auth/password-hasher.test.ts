import { describe, expect, it } from 'vitest';
import { PasswordHasher } from './password-hasher.js';

describe('PasswordHasher', () => {
  const passwords = new PasswordHasher();

  it('hashes with argon2id and a fresh salt each time', async () => {
    const first = await passwords.hash('correct horse battery staple');
    const second = await passwords.hash('correct horse battery staple');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(second).not.toBe(first);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await passwords.hash('correct horse battery staple');
    expect(await passwords.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await passwords.verify(hash, 'Correct horse battery staple')).toBe(false);
  });

  it('refuses, rather than throws, on a stored value that is not an argon2 hash', async () => {
    expect(await passwords.verify('not-a-hash', 'anything')).toBe(false);
  });

  it('verifies against a decoy for unknown users: always false', async () => {
    expect(await passwords.verifyDecoy('anything')).toBe(false);
  });

  it('makes its decoy with the parameters of a real hash, so that both take as long', async () => {
    const decoy = await (passwords as unknown as { decoy: Promise<string> }).decoy;
    const real = await passwords.hash('correct horse battery staple');
    const parameters = (hash: string) => hash.split('$').slice(1, 4).join('$');
    expect(parameters(decoy)).toBe(parameters(real));
  });
});
