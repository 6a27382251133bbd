// Prints compiler/linker flags for the libtorch that the addon links against.
// Default: Debian's libtorch-dev (headers in /usr/include, libraries in the multiarch dir).
// LIBTORCH_DIR=/path/to/libtorch (an unpacked official zip, e.g. a CUDA build) switches to that copy.
'use strict';
const fs = require('fs');
const path = require('path');

const custom = process.env.LIBTORCH_DIR;
const debianLib = '/usr/lib/x86_64-linux-gnu';

function torchConfigPath() {
  const candidates = custom
    ? [path.join(custom, 'share/cmake/Torch/TorchConfig.cmake')]
    : [path.join(debianLib, 'cmake/Torch/TorchConfig.cmake')];
  return candidates.find((p) => fs.existsSync(p));
}

// The addon must be compiled with the same std::string ABI as libtorch, or linking fails (or worse, it links and crashes).
function cxx11Abi() {
  const config = torchConfigPath();
  if (!config) return '1';
  const match = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(fs.readFileSync(config, 'utf8'));
  return match ? match[1] : '1';
}

function includeDirs() {
  // /usr/include is already on the system search path; naming it with -I would break libstdc++'s #include_next.
  if (!custom) return ['/usr/include/torch/csrc/api/include'];
  const root = path.join(custom, 'include');
  return [root, path.join(root, 'torch/csrc/api/include')];
}

function libFlags() {
  const libDir = custom ? path.join(custom, 'lib') : debianLib;
  const libs = ['c10', 'torch_cpu', 'torch'];
  // A CUDA build registers its kernels from libtorch_cuda's static initialisers: keep it linked even though no symbol is used.
  const cuda = fs.existsSync(path.join(libDir, 'libtorch_cuda.so'));
  const flags = [`-L${libDir}`, `-Wl,-rpath,${libDir}`];
  if (cuda) flags.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  return flags.concat(libs.map((l) => `-l${l}`));
}

const what = process.argv[2];
if (what === 'include') console.log(includeDirs().join(' '));
else if (what === 'libs') console.log(libFlags().join(' '));
else if (what === 'defines') console.log(`_GLIBCXX_USE_CXX11_ABI=${cxx11Abi()}`);
else if (what === 'cuda') console.log(fs.existsSync(path.join(custom ? path.join(custom, 'lib') : debianLib, 'libtorch_cuda.so')) ? 1 : 0);
else {
  console.error('usage: node libtorch.cjs include|libs|defines|cuda');
  process.exit(2);
}
