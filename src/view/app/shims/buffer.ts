/** Node's Buffer for the browser bundle (esbuild injects it where nodal's NIfTI code uses Buffer). */
export { Buffer } from 'buffer'
