/** The 512 x 512 x 300 chest CT phantom (0.7 x 0.7 x 1.5 mm) that the prediction benchmarks share, made once. */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

export function benchmarkCt(root: string): string {
  const dir = join(root, '.bench/predict_512')
  const file = join(dir, 'imagesTr/chest_000_0000.nii.gz')
  if (!existsSync(file)) {
    console.error('making the 512x512x300 phantom once (.bench/predict_512)...')
    execFileSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'phantom', '--site', 'chest', '--cases', '1', '--seed', '2024',
      '--size', '512,512,300', '--spacing', '0.7,0.7,1.5', '--out', dir], { stdio: 'inherit' })
  }
  return file
}
