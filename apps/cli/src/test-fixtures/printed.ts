/** What `print` writes to stdout, for specs of the CLI's tables and text. */
export function printed(print: () => void): string {
  let out = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    print();
  } finally {
    write.mockRestore();
  }
  return out;
}
