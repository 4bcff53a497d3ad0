/** An error the CLI reports as `error <CODE>: <message>` with a non-zero exit. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
