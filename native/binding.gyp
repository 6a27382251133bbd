{
  "targets": [
    {
      "target_name": "nodal_torch",
      "sources": ["src/addon.cc", "src/tensor.cc", "src/ops.cc", "src/nn_ops.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node libtorch.cjs include)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "<!@(node libtorch.cjs defines)",
        "NODAL_TORCH_CUDA=<!(node libtorch.cjs cuda)"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O3"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": ["<!@(node libtorch.cjs libs)"]
    }
  ]
}
