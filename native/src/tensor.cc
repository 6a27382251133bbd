// The tensor handle, argument conversion, creation from/export to typed arrays, autograd entry points.
#include <cmath>
#include <cstring>

#include "common.h"

namespace nodal {

// ---------- tensor table ----------

uint32_t TensorTable::add(Napi::Env env, at::Tensor t) {
  // Tells V8 how much native memory its small ids stand for, so that the GC runs before memory runs out.
  int64_t bytes = t.defined() && t.device().is_cpu() ? t.numel() * t.element_size() : 0;
  if (bytes > 0) Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  if (!free_.empty()) {
    uint32_t id = free_.back();
    free_.pop_back();
    slots_[id] = std::move(t);
    bytes_[id] = bytes;
    return id;
  }
  slots_.push_back(std::move(t));
  bytes_.push_back(bytes);
  return static_cast<uint32_t>(slots_.size() - 1);
}

const at::Tensor& TensorTable::get(Napi::Env env, uint32_t id) const {
  if (id >= slots_.size() || !slots_[id].defined()) throw Napi::Error::New(env, "tensor was disposed");
  return slots_[id];
}

void TensorTable::release(Napi::Env env, uint32_t id) {
  if (id >= slots_.size() || !slots_[id].defined()) return;
  slots_[id].reset();
  if (bytes_[id] > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -bytes_[id]);
  bytes_[id] = 0;
  free_.push_back(id);
}

// ---------- argument conversion ----------

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  return Napi::Number::New(env, env.GetInstanceData<AddonData>()->tensors.add(env, std::move(t)));
}

const at::Tensor& Unwrap(const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "expected a tensor handle");
  return v.Env().GetInstanceData<AddonData>()->tensors.get(v.Env(), v.As<Napi::Number>().Uint32Value());
}

c10::optional<at::Tensor> UnwrapOptional(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  return Unwrap(v);
}

std::vector<at::Tensor> UnwrapList(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of tensors");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(Unwrap(arr.Get(i)));
  return out;
}

std::vector<int64_t> IntList(const Napi::Value& v) {
  if (v.IsNumber()) return {v.As<Napi::Number>().Int64Value()};
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of integers");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out[i] = Int(arr.Get(i));
  return out;
}

int64_t Int(const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "expected an integer");
  return v.As<Napi::Number>().Int64Value();
}

double Double(const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "expected a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool Bool(const Napi::Value& v) { return v.ToBoolean().Value(); }

std::string String(const Napi::Value& v) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), "expected a string");
  return v.As<Napi::String>().Utf8Value();
}

at::Scalar ToScalar(const Napi::Value& v) {
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  // JS has one number type: integral values become integer scalars so that int64 tensors stay int64
  // (as `t + 1` in Python); anything else is a double.
  double d = Double(v);
  if (std::nearbyint(d) == d && std::fabs(d) < 9007199254740992.0) return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

at::ScalarType ParseDtype(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "float64") return at::kDouble;
  if (name == "int64") return at::kLong;
  if (name == "int32") return at::kInt;
  if (name == "uint8") return at::kByte;
  if (name == "bool") return at::kBool;
  throw std::invalid_argument("unknown dtype '" + name + "' (float32, float64, int64, int32, uint8, bool)");
}

std::string DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(t);
  }
}

at::Device ParseDevice(const std::string& name) { return at::Device(name); }

Napi::Array ToJsIntArray(Napi::Env env, at::IntArrayRef values) {
  Napi::Array arr = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) arr.Set(i, Napi::Number::New(env, static_cast<double>(values[i])));
  return arr;
}

// ---------- typed arrays ----------

namespace {

napi_typedarray_type TypedArrayTypeFor(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return napi_float32_array;
    case at::kDouble: return napi_float64_array;
    case at::kLong: return napi_bigint64_array;
    case at::kInt: return napi_int32_array;
    case at::kByte:
    case at::kBool: return napi_uint8_array;
    default: throw std::invalid_argument("no typed array for dtype " + DtypeName(t));
  }
}

at::ScalarType DtypeForTypedArray(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_bigint64_array: return at::kLong;
    case napi_int32_array: return at::kInt;
    case napi_uint8_array: return at::kByte;
    default: throw std::invalid_argument("unsupported typed array (Float32, Float64, BigInt64, Int32, Uint8)");
  }
}

Napi::TypedArray MakeTypedArray(Napi::Env env, napi_typedarray_type type, Napi::ArrayBuffer buf, size_t length) {
  napi_value out;
  napi_status status = napi_create_typedarray(env, type, length, buf, 0, &out);
  if (status != napi_ok) throw Napi::Error::New(env, "could not create typed array");
  return Napi::TypedArray(env, out);
}

// fromData(typedArray, shape, dtype|null): copies, because JS memory cannot be kept alive safely from the
// threads (autograd, AsyncWorker) on which libtorch may free the last reference to a tensor.
Napi::Value FromData(const Napi::CallbackInfo& info) {
  Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = IntList(info[1]);
  at::ScalarType src = DtypeForTypedArray(arr.TypedArrayType());
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(src));
  if (static_cast<size_t>(t.numel()) != arr.ElementLength())
    throw std::invalid_argument("data has " + std::to_string(arr.ElementLength()) + " elements but shape needs " +
                                std::to_string(t.numel()));
  std::memcpy(t.data_ptr(), static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), arr.ByteLength());
  if (info.Length() > 2 && info[2].IsString()) t = t.to(ParseDtype(String(info[2])));
  return Wrap(info.Env(), t);
}

at::Tensor CpuContiguous(const at::Tensor& t) { return t.detach().to(at::kCPU).contiguous(); }

// toArray(h): a fresh copy of the data.
Napi::Value ToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor t = CpuContiguous(Unwrap(info[0]));
  size_t bytes = t.numel() * t.element_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  return MakeTypedArray(env, TypedArrayTypeFor(t.scalar_type()), buf, t.numel());
}

// dataView(h): shares the memory of a contiguous CPU tensor (no copy); the view keeps the storage alive.
Napi::Value DataView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& src = Unwrap(info[0]);
  if (!src.device().is_cpu() || !src.is_contiguous() || src.numel() == 0) return ToArray(info);
  auto* keep = new at::Tensor(src.detach());
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, keep->data_ptr(), keep->numel() * keep->element_size(),
                                                 [](Napi::Env, void*, at::Tensor* t) { delete t; }, keep);
  return MakeTypedArray(env, TypedArrayTypeFor(keep->scalar_type()), buf, keep->numel());
}

at::TensorOptions Options(const Napi::CallbackInfo& info, size_t dtypeArg, size_t deviceArg) {
  at::TensorOptions o;
  o = o.dtype(info.Length() > dtypeArg && info[dtypeArg].IsString() ? ParseDtype(String(info[dtypeArg])) : at::kFloat);
  if (info.Length() > deviceArg && info[deviceArg].IsString()) o = o.device(ParseDevice(String(info[deviceArg])));
  return o;
}

// ---------- backward off the main thread ----------

class BackwardWorker : public Napi::AsyncWorker {
 public:
  BackwardWorker(Napi::Env env, at::Tensor loss, c10::optional<at::Tensor> grad)
      : Napi::AsyncWorker(env, "nodal.backward"), deferred_(env), loss_(std::move(loss)), grad_(std::move(grad)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      loss_.backward(grad_.value_or(at::Tensor()));
    } catch (const c10::Error& e) {
      SetError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
    loss_.reset();
    grad_.reset();
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  at::Tensor loss_;
  c10::optional<at::Tensor> grad_;
};

}  // namespace

void RegisterTensorFunctions(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "release", [](const Napi::CallbackInfo& i) -> Napi::Value {
    i.Env().GetInstanceData<AddonData>()->tensors.release(i.Env(), static_cast<uint32_t>(Int(i[0])));
    return i.Env().Undefined();
  });
  Export(env, exports, "liveTensors", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), static_cast<double>(i.Env().GetInstanceData<AddonData>()->tensors.live()));
  });
  Export(env, exports, "fromData", FromData);
  Export(env, exports, "toArray", ToArray);
  Export(env, exports, "dataView", DataView);

  Export(env, exports, "zeros", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::zeros(IntList(i[0]), Options(i, 1, 2))); });
  Export(env, exports, "ones", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::ones(IntList(i[0]), Options(i, 1, 2))); });
  Export(env, exports, "full", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::full(IntList(i[0]), ToScalar(i[1]), Options(i, 2, 3)));
  });
  Export(env, exports, "randn", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::randn(IntList(i[0]), Options(i, 1, 2))); });
  Export(env, exports, "rand", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::rand(IntList(i[0]), Options(i, 1, 2))); });
  Export(env, exports, "randint", [](const Napi::CallbackInfo& i) {
    // randint(low, high, shape, device|null): always int64
    at::TensorOptions o = at::TensorOptions().dtype(at::kLong);
    if (i[3].IsString()) o = o.device(ParseDevice(String(i[3])));
    return Wrap(i.Env(), at::randint(Int(i[0]), Int(i[1]), IntList(i[2]), o));
  });
  Export(env, exports, "arange", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::arange(ToScalar(i[0]), ToScalar(i[1]), ToScalar(i[2]), Options(i, 3, 4)));
  });

  Export(env, exports, "shape", [](const Napi::CallbackInfo& i) -> Napi::Value { return ToJsIntArray(i.Env(), Unwrap(i[0]).sizes()); });
  Export(env, exports, "dtype", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::String::New(i.Env(), DtypeName(Unwrap(i[0]).scalar_type()));
  });
  Export(env, exports, "device", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::String::New(i.Env(), Unwrap(i[0]).device().str());
  });
  Export(env, exports, "item", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), Unwrap(i[0]).item().toDouble());
  });
  Export(env, exports, "requiresGrad", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Boolean::New(i.Env(), Unwrap(i[0]).requires_grad());
  });
  Export(env, exports, "setRequiresGrad", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).set_requires_grad(Bool(i[1]));
    return i.Env().Undefined();
  });
  Export(env, exports, "grad", [](const Napi::CallbackInfo& i) -> Napi::Value {
    const at::Tensor& g = Unwrap(i[0]).grad();
    return g.defined() ? Wrap(i.Env(), g) : i.Env().Null();
  });
  Export(env, exports, "clearGrad", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).mutable_grad().reset();
    return i.Env().Undefined();
  });
  Export(env, exports, "backward", [](const Napi::CallbackInfo& i) -> Napi::Value {
    c10::optional<at::Tensor> g = UnwrapOptional(i[1]);
    Unwrap(i[0]).backward(g.value_or(at::Tensor()), Bool(i[2]));
    return i.Env().Undefined();
  });
  Export(env, exports, "backwardAsync", [](const Napi::CallbackInfo& i) -> Napi::Value {
    auto* worker = new BackwardWorker(i.Env(), Unwrap(i[0]), UnwrapOptional(i[1]));
    Napi::Promise p = worker->Promise();
    worker->Queue();
    return p;
  });
  Export(env, exports, "detach", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), Unwrap(i[0]).detach()); });
  Export(env, exports, "clone", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), Unwrap(i[0]).clone()); });
  Export(env, exports, "contiguous", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), Unwrap(i[0]).contiguous()); });
  Export(env, exports, "to", [](const Napi::CallbackInfo& i) {
    const at::Tensor& t = Unwrap(i[0]);
    at::Device device = i[1].IsString() ? ParseDevice(String(i[1])) : t.device();
    at::ScalarType dtype = i[2].IsString() ? ParseDtype(String(i[2])) : t.scalar_type();
    return Wrap(i.Env(), t.to(device, dtype));
  });
  // setData(param, value): swaps the storage under a parameter while keeping its identity (as Python's p.data = v).
  Export(env, exports, "setData", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).set_data(Unwrap(i[1]));
    return i.Env().Undefined();
  });
}

}  // namespace nodal
