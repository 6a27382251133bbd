// Entry point of the nodal_torch addon: registers the tensor handle class and every function, plus
// process-wide settings (seed, threads, grad mode, devices).
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "common.h"

namespace nodal {
namespace {

void RegisterRuntime(Napi::Env env, Napi::Object e) {
  Export(env, e, "manualSeed", [](const Napi::CallbackInfo& i) -> Napi::Value {
    at::manual_seed(static_cast<uint64_t>(Int(i[0])));
    return i.Env().Undefined();
  });
  Export(env, e, "setNumThreads", [](const Napi::CallbackInfo& i) -> Napi::Value {
    at::set_num_threads(static_cast<int>(Int(i[0])));
    return i.Env().Undefined();
  });
  Export(env, e, "getNumThreads", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), at::get_num_threads());
  });
  // Grad mode is thread-local in libtorch; the TS no-grad scope saves and restores it around a callback.
  Export(env, e, "setGradEnabled", [](const Napi::CallbackInfo& i) -> Napi::Value {
    bool previous = at::GradMode::is_enabled();
    at::GradMode::set_enabled(Bool(i[0]));
    return Napi::Boolean::New(i.Env(), previous);
  });
  Export(env, e, "isGradEnabled", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Boolean::New(i.Env(), at::GradMode::is_enabled());
  });
  Export(env, e, "cudaAvailable", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Boolean::New(i.Env(), torch::cuda::is_available());
  });
  Export(env, e, "cudaDeviceCount", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), static_cast<double>(torch::cuda::device_count()));
  });
  Export(env, e, "parallelInfo", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::String::New(i.Env(), at::get_parallel_info());
  });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<AddonData>(new AddonData());
  exports.Set("torchVersion", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH)));
  exports.Set("builtWithCuda", Napi::Boolean::New(env, NODAL_TORCH_CUDA != 0));
  RegisterRuntime(env, exports);
  RegisterTensorFunctions(env, exports);
  RegisterOps(env, exports);
  RegisterNnOps(env, exports);
  return exports;
}

}  // namespace nodal

static Napi::Object InitNodalTorch(Napi::Env env, Napi::Object exports) { return nodal::Init(env, exports); }

NODE_API_MODULE(nodal_torch, InitNodalTorch)
