// Shared helpers for the libtorch glue: wrapping at::Tensor in a JS object, reading JS arguments,
// and turning C++ exceptions (c10::Error) into JS errors.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

#include <string>
#include <vector>

namespace nodal {

// Tensors live in a per-addon-instance table; JS holds their integer ids. Plain numbers cost nothing to
// the GC, and freeing is explicit (release) or done by the TypeScript FinalizationRegistry. Native
// finalizers were avoided on purpose: Node defers them to later event-loop turns, so a synchronous
// training loop piled up ~1 KiB per dead handle until it yielded.
class TensorTable {
 public:
  uint32_t add(Napi::Env env, at::Tensor t);
  const at::Tensor& get(Napi::Env env, uint32_t id) const;
  void release(Napi::Env env, uint32_t id);
  size_t live() const { return slots_.size() - free_.size(); }

 private:
  std::vector<at::Tensor> slots_;
  std::vector<int64_t> bytes_;
  std::vector<uint32_t> free_;
};

// Per-addon-instance data (the addon may be loaded in several worker_threads at once).
struct AddonData {
  TensorTable tensors;
};

Napi::Value Wrap(Napi::Env env, at::Tensor t);
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
