// Shared helpers for the libtorch glue: wrapping at::Tensor in a JS object, reading JS arguments,
// and turning C++ exceptions (c10::Error) into JS errors.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

#include <optional>
#include <string>
#include <vector>

namespace nodal {

// The JS-visible handle of one at::Tensor. The TypeScript Tensor class owns exactly one of these.
class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;

  const at::Tensor& tensor(Napi::Env env) const;
  void reset(at::Tensor t, Napi::Env env);
  void release(Napi::Env env);
  bool live() const { return tensor_.defined(); }

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  void accountMemory(Napi::Env env, int64_t sign);

  at::Tensor tensor_;
  int64_t accounted_bytes_ = 0;
};

// Per-addon-instance data (the addon may be loaded in several worker_threads at once).
struct AddonData {
  Napi::FunctionReference tensor_ctor;
};

Napi::Object Wrap(Napi::Env env, at::Tensor t);
const at::Tensor& Unwrap(const Napi::Value& v);
c10::optional<at::Tensor> UnwrapOptional(const Napi::Value& v);
std::vector<at::Tensor> UnwrapList(const Napi::Value& v);
std::vector<int64_t> IntList(const Napi::Value& v);
int64_t Int(const Napi::Value& v);
double Double(const Napi::Value& v);
bool Bool(const Napi::Value& v);
std::string String(const Napi::Value& v);
at::Scalar ToScalar(const Napi::Value& v);
at::ScalarType ParseDtype(const std::string& name);
std::string DtypeName(at::ScalarType t);
at::Device ParseDevice(const std::string& name);
Napi::Array ToJsIntArray(Napi::Env env, at::IntArrayRef values);

// Runs `body`, converting any C++ exception into a thrown JS Error carrying libtorch's message.
template <typename Body>
Napi::Value Guarded(const Napi::CallbackInfo& info, Body body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

using Registrar = void (*)(Napi::Env, Napi::Object);
void RegisterTensorFunctions(Napi::Env env, Napi::Object exports);
void RegisterOps(Napi::Env env, Napi::Object exports);
void RegisterNnOps(Napi::Env env, Napi::Object exports);

// Adds `fn` to `exports` under `name`, guarded so that libtorch errors become JS errors.
template <typename Fn>
void Export(Napi::Env env, Napi::Object exports, const char* name, Fn fn) {
  exports.Set(name, Napi::Function::New(
                        env, [fn](const Napi::CallbackInfo& info) -> Napi::Value { return Guarded(info, [&] { return fn(info); }); },
                        name));
}

}  // namespace nodal
