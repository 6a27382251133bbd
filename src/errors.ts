/**
 * An error at a boundary of nodal (a file, a folder, a command line) that a user can act on.
 * `code` is a short stable identifier; `message` is one line naming the file and the problem.
 * The CLI prints `nodal: <message>` and exits with code 2, never a stack trace.
 */
export class NodalError extends Error {
  constructor(public code: string, message: string) {
    super(message)
    this.name = 'NodalError'
  }
}

/** Short form for the common "this input is unusable" error. */
export function badInput(file: string, problem: string): NodalError {
  return new NodalError('bad-input', `${file}: ${problem}`)
}
