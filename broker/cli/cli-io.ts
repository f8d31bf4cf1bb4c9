/** Where a command writes: lines to stdout and stderr, and whether stderr is a terminal (progress bars) or a pipe (plain lines). */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
