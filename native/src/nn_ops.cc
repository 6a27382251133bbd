// Neural-network operations: convolution, normalisation, pooling, resampling, dropout, linear.
#include "common.h"

namespace nodal {
namespace {

bool IsVolume(const at::Tensor& t) { return t.dim() == 5; }

// convolution(x, w, b|null, stride, padding, dilation, transposed, outputPadding, groups); 1, 2 and 3 spatial dims.
Napi::Value Convolution(const Napi::CallbackInfo& i) {
  return Wrap(i.Env(), at::convolution(Unwrap(i[0]), Unwrap(i[1]), UnwrapOptional(i[2]), IntList(i[3]), IntList(i[4]),
                                       IntList(i[5]), Bool(i[6]), IntList(i[7]), Int(i[8])));
}

// instanceNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, useInputStats, momentum, eps)
Napi::Value InstanceNorm(const Napi::CallbackInfo& i) {
  return Wrap(i.Env(), at::instance_norm(Unwrap(i[0]), UnwrapOptional(i[1]), UnwrapOptional(i[2]), UnwrapOptional(i[3]),
                                         UnwrapOptional(i[4]), Bool(i[5]), Double(i[6]), Double(i[7]), true));
}

// batchNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps)
Napi::Value BatchNorm(const Napi::CallbackInfo& i) {
  return Wrap(i.Env(), at::batch_norm(Unwrap(i[0]), UnwrapOptional(i[1]), UnwrapOptional(i[2]), UnwrapOptional(i[3]),
                                      UnwrapOptional(i[4]), Bool(i[5]), Double(i[6]), Double(i[7]), true));
}

// groupNorm(x, groups, weight|null, bias|null, eps)
Napi::Value GroupNorm(const Napi::CallbackInfo& i) {
  return Wrap(i.Env(), at::group_norm(Unwrap(i[0]), Int(i[1]), UnwrapOptional(i[2]), UnwrapOptional(i[3]), Double(i[4]), true));
}

// maxPool(x, kernel, stride, padding)
Napi::Value MaxPool(const Napi::CallbackInfo& i) {
  const at::Tensor& x = Unwrap(i[0]);
  auto k = IntList(i[1]), s = IntList(i[2]), p = IntList(i[3]);
  return Wrap(i.Env(), IsVolume(x) ? at::max_pool3d(x, k, s, p) : at::max_pool2d(x, k, s, p));
}

// avgPool(x, kernel, stride, padding)
Napi::Value AvgPool(const Napi::CallbackInfo& i) {
  const at::Tensor& x = Unwrap(i[0]);
  auto k = IntList(i[1]), s = IntList(i[2]), p = IntList(i[3]);
  return Wrap(i.Env(), IsVolume(x) ? at::avg_pool3d(x, k, s, p) : at::avg_pool2d(x, k, s, p));
}

// adaptiveAvgPool(x, outputSize)
Napi::Value AdaptiveAvgPool(const Napi::CallbackInfo& i) {
  const at::Tensor& x = Unwrap(i[0]);
  auto size = IntList(i[1]);
  return Wrap(i.Env(), IsVolume(x) ? at::adaptive_avg_pool3d(x, size) : at::adaptive_avg_pool2d(x, size));
}

// interpolate(x, outputSize, mode 'linear'|'nearest', alignCorners): trilinear for 5-D, bilinear for 4-D input.
Napi::Value Interpolate(const Napi::CallbackInfo& i) {
  const at::Tensor& x = Unwrap(i[0]);
  auto size = IntList(i[1]);
  std::string mode = String(i[2]);
  bool align = Bool(i[3]);
  if (mode == "nearest") return Wrap(i.Env(), IsVolume(x) ? at::upsample_nearest3d(x, size) : at::upsample_nearest2d(x, size));
  if (mode != "linear") throw std::invalid_argument("interpolate mode must be 'linear' or 'nearest'");
  return Wrap(i.Env(), IsVolume(x) ? at::upsample_trilinear3d(x, size, align) : at::upsample_bilinear2d(x, size, align));
}

}  // namespace

void RegisterNnOps(Napi::Env env, Napi::Object e) {
  Export(env, e, "convolution", Convolution);
  Export(env, e, "instanceNorm", InstanceNorm);
  Export(env, e, "batchNorm", BatchNorm);
  Export(env, e, "groupNorm", GroupNorm);
  Export(env, e, "maxPool", MaxPool);
  Export(env, e, "avgPool", AvgPool);
  Export(env, e, "adaptiveAvgPool", AdaptiveAvgPool);
  Export(env, e, "interpolate", Interpolate);
  Export(env, e, "dropout", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::dropout(Unwrap(i[0]), Double(i[1]), Bool(i[2]))); });
  Export(env, e, "linear", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::linear(Unwrap(i[0]), Unwrap(i[1]), UnwrapOptional(i[2])));
  });
}

}  // namespace nodal
