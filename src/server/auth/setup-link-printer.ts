/**
 * Shows the one-time set-up link to the person starting mainloop: on the console, apart from
 * the JSON log (which may be shipped elsewhere, and should not hold a credential).
 */
export class SetupLinkPrinter {
  constructor(private readonly output: { write(text: string): unknown } = process.stdout) {}

  print(link: string, expiresAt: Date): void {
    const rule = '='.repeat(72);
    this.output.write(
      [
        '',
        rule,
        '  mainloop: finish setting up. Open this one-time link to choose your',
        `  username and password (valid until ${expiresAt.toISOString()}):`,
        '',
        `    ${link}`,
        '',
        '  A new link is printed at each start until set-up is done.',
        rule,
        '',
        '',
      ].join('\n'),
    );
  }
}
