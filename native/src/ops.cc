// Element-wise math, reductions, shape and indexing operations, and in-place updates for optimizers.
#include "common.h"

namespace nodal {
namespace {

using Unary = at::Tensor (*)(const at::Tensor&);

template <Unary fn>
Napi::Value UnaryOp(const Napi::CallbackInfo& i) {
  return Wrap(i.Env(), fn(Unwrap(i[0])));
}

// Tensor handles are plain numbers, so a scalar operand needs its own entry point: each binary operation is
// exported as `name` (tensor, tensor) and `nameScalar` (tensor, number).
template <at::Tensor (*tt)(const at::Tensor&, const at::Tensor&)>
Napi::Value BinaryTT(const Napi::CallbackInfo& i) {
  return Wrap(i.Env(), tt(Unwrap(i[0]), Unwrap(i[1])));
}

template <at::Tensor (*ts)(const at::Tensor&, const at::Scalar&)>
Napi::Value BinaryTS(const Napi::CallbackInfo& i) {
  return Wrap(i.Env(), ts(Unwrap(i[0]), ToScalar(i[1])));
}

#define NODAL_BINARY(name, tt, ts)           \
  Export(env, e, name, BinaryTT<tt>); \
  Export(env, e, name "Scalar", BinaryTS<ts>)

at::Tensor Mul(const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }
at::Tensor MulS(const at::Tensor& a, const at::Scalar& b) { return at::mul(a, b); }
at::Tensor Div(const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); }
at::Tensor DivS(const at::Tensor& a, const at::Scalar& b) { return at::div(a, b); }
at::Tensor Pow(const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); }
at::Tensor PowS(const at::Tensor& a, const at::Scalar& b) { return at::pow(a, b); }
at::Tensor Eq(const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); }
at::Tensor EqS(const at::Tensor& a, const at::Scalar& b) { return at::eq(a, b); }
at::Tensor Ne(const at::Tensor& a, const at::Tensor& b) { return at::ne(a, b); }
at::Tensor NeS(const at::Tensor& a, const at::Scalar& b) { return at::ne(a, b); }
at::Tensor Lt(const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); }
at::Tensor LtS(const at::Tensor& a, const at::Scalar& b) { return at::lt(a, b); }
at::Tensor Le(const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); }
at::Tensor LeS(const at::Tensor& a, const at::Scalar& b) { return at::le(a, b); }
at::Tensor Gt(const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); }
at::Tensor GtS(const at::Tensor& a, const at::Scalar& b) { return at::gt(a, b); }
at::Tensor Ge(const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); }
at::Tensor GeS(const at::Tensor& a, const at::Scalar& b) { return at::ge(a, b); }
at::Tensor Maximum(const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }
at::Tensor MaximumS(const at::Tensor& a, const at::Scalar& b) { return at::clamp_min(a, b); }
at::Tensor Minimum(const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }
at::Tensor MinimumS(const at::Tensor& a, const at::Scalar& b) { return at::clamp_max(a, b); }
at::Tensor LogicalAnd(const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); }
at::Tensor LogicalAndS(const at::Tensor& a, const at::Scalar& b) { return at::logical_and(a, at::scalar_tensor(b, a.options())); }
at::Tensor LogicalOr(const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); }
at::Tensor LogicalOrS(const at::Tensor& a, const at::Scalar& b) { return at::logical_or(a, at::scalar_tensor(b, a.options())); }

at::Tensor Neg(const at::Tensor& a) { return at::neg(a); }
at::Tensor Exp(const at::Tensor& a) { return at::exp(a); }
at::Tensor Log(const at::Tensor& a) { return at::log(a); }
at::Tensor Log1p(const at::Tensor& a) { return at::log1p(a); }
at::Tensor Sqrt(const at::Tensor& a) { return at::sqrt(a); }
at::Tensor Rsqrt(const at::Tensor& a) { return at::rsqrt(a); }
at::Tensor Abs(const at::Tensor& a) { return at::abs(a); }
at::Tensor Sigmoid(const at::Tensor& a) { return at::sigmoid(a); }
at::Tensor Tanh(const at::Tensor& a) { return at::tanh(a); }
at::Tensor Relu(const at::Tensor& a) { return at::relu(a); }
at::Tensor Erf(const at::Tensor& a) { return at::erf(a); }
at::Tensor Floor(const at::Tensor& a) { return at::floor(a); }
at::Tensor Round(const at::Tensor& a) { return at::round(a); }
at::Tensor Sign(const at::Tensor& a) { return at::sign(a); }
at::Tensor Reciprocal(const at::Tensor& a) { return at::reciprocal(a); }
at::Tensor LogicalNot(const at::Tensor& a) { return at::logical_not(a); }
at::Tensor Square(const at::Tensor& a) { return at::square(a); }

c10::optional<at::Scalar> OptionalScalar(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  return ToScalar(v);
}

// Reductions take dims (array or null = all) and keepdim.
template <at::Tensor (*fn)(const at::Tensor&, at::OptionalIntArrayRef, bool, c10::optional<at::ScalarType>)>
Napi::Value SumLike(const Napi::CallbackInfo& i) {
  const at::Tensor& t = Unwrap(i[0]);
  if (i[1].IsNull() || i[1].IsUndefined()) return Wrap(i.Env(), fn(t, c10::nullopt, Bool(i[2]), c10::nullopt));
  std::vector<int64_t> dims = IntList(i[1]);
  return Wrap(i.Env(), fn(t, at::IntArrayRef(dims), Bool(i[2]), c10::nullopt));
}
at::Tensor SumImpl(const at::Tensor& t, at::OptionalIntArrayRef d, bool k, c10::optional<at::ScalarType> s) { return at::sum(t, d, k, s); }
at::Tensor MeanImpl(const at::Tensor& t, at::OptionalIntArrayRef d, bool k, c10::optional<at::ScalarType> s) { return at::mean(t, d, k, s); }

template <at::Tensor (*fn)(const at::Tensor&, at::IntArrayRef, bool)>
Napi::Value MaxLike(const Napi::CallbackInfo& i) {
  std::vector<int64_t> dims = (i[1].IsNull() || i[1].IsUndefined()) ? std::vector<int64_t>{} : IntList(i[1]);
  return Wrap(i.Env(), fn(Unwrap(i[0]), dims, Bool(i[2])));
}
at::Tensor AmaxImpl(const at::Tensor& t, at::IntArrayRef d, bool k) { return at::amax(t, d, k); }
at::Tensor AminImpl(const at::Tensor& t, at::IntArrayRef d, bool k) { return at::amin(t, d, k); }

Napi::Value Undef(const Napi::CallbackInfo& i) { return i.Env().Undefined(); }

Napi::Value AddLike(const Napi::CallbackInfo& i, bool subtract, bool scalar) {
  const at::Tensor& a = Unwrap(i[0]);
  at::Scalar alpha = ToScalar(i[2]);
  if (scalar) return Wrap(i.Env(), subtract ? at::sub(a, ToScalar(i[1]), alpha) : at::add(a, ToScalar(i[1]), alpha));
  return Wrap(i.Env(), subtract ? at::sub(a, Unwrap(i[1]), alpha) : at::add(a, Unwrap(i[1]), alpha));
}

void RegisterMath(Napi::Env env, Napi::Object e) {
  // add(a, b, alpha) = a + alpha*b
  Export(env, e, "add", [](const Napi::CallbackInfo& i) { return AddLike(i, false, false); });
  Export(env, e, "addScalar", [](const Napi::CallbackInfo& i) { return AddLike(i, false, true); });
  Export(env, e, "sub", [](const Napi::CallbackInfo& i) { return AddLike(i, true, false); });
  Export(env, e, "subScalar", [](const Napi::CallbackInfo& i) { return AddLike(i, true, true); });
  NODAL_BINARY("mul", Mul, MulS);
  NODAL_BINARY("div", Div, DivS);
  NODAL_BINARY("pow", Pow, PowS);
  NODAL_BINARY("eq", Eq, EqS);
  NODAL_BINARY("ne", Ne, NeS);
  NODAL_BINARY("lt", Lt, LtS);
  NODAL_BINARY("le", Le, LeS);
  NODAL_BINARY("gt", Gt, GtS);
  NODAL_BINARY("ge", Ge, GeS);
  NODAL_BINARY("maximum", Maximum, MaximumS);
  NODAL_BINARY("minimum", Minimum, MinimumS);
  NODAL_BINARY("logicalAnd", LogicalAnd, LogicalAndS);
  NODAL_BINARY("logicalOr", LogicalOr, LogicalOrS);

  Export(env, e, "neg", UnaryOp<Neg>);
  Export(env, e, "exp", UnaryOp<Exp>);
  Export(env, e, "log", UnaryOp<Log>);
  Export(env, e, "log1p", UnaryOp<Log1p>);
  Export(env, e, "sqrt", UnaryOp<Sqrt>);
  Export(env, e, "rsqrt", UnaryOp<Rsqrt>);
  Export(env, e, "abs", UnaryOp<Abs>);
  Export(env, e, "sigmoid", UnaryOp<Sigmoid>);
  Export(env, e, "tanh", UnaryOp<Tanh>);
  Export(env, e, "relu", UnaryOp<Relu>);
  Export(env, e, "erf", UnaryOp<Erf>);
  Export(env, e, "floor", UnaryOp<Floor>);
  Export(env, e, "round", UnaryOp<Round>);
  Export(env, e, "sign", UnaryOp<Sign>);
  Export(env, e, "reciprocal", UnaryOp<Reciprocal>);
  Export(env, e, "logicalNot", UnaryOp<LogicalNot>);
  Export(env, e, "square", UnaryOp<Square>);

  Export(env, e, "clamp", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::clamp(Unwrap(i[0]), OptionalScalar(i[1]), OptionalScalar(i[2])));
  });
  // where(cond, a, b, aIsScalar, bIsScalar)
  Export(env, e, "where", [](const Napi::CallbackInfo& i) {
    const at::Tensor& cond = Unwrap(i[0]);
    bool sa = Bool(i[3]), sb = Bool(i[4]);
    // A scalar takes the other operand's dtype (libtorch 1.13 would promote it to float32).
    if (sa && sb) return Wrap(i.Env(), at::where(cond, ToScalar(i[1]), ToScalar(i[2])));
    if (sa) return Wrap(i.Env(), at::where(cond, at::scalar_tensor(ToScalar(i[1]), Unwrap(i[2]).options()), Unwrap(i[2])));
    if (sb) return Wrap(i.Env(), at::where(cond, Unwrap(i[1]), at::scalar_tensor(ToScalar(i[2]), Unwrap(i[1]).options())));
    return Wrap(i.Env(), at::where(cond, Unwrap(i[1]), Unwrap(i[2])));
  });
  Export(env, e, "leakyRelu", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::leaky_relu(Unwrap(i[0]), ToScalar(i[1]))); });
  Export(env, e, "gelu", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::gelu(Unwrap(i[0]), Bool(i[1]) ? "tanh" : "none"));
  });
  Export(env, e, "softmax", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::softmax(Unwrap(i[0]), Int(i[1]))); });
  Export(env, e, "logSoftmax", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::log_softmax(Unwrap(i[0]), Int(i[1]))); });
  Export(env, e, "matmul", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::matmul(Unwrap(i[0]), Unwrap(i[1]))); });

  Export(env, e, "sum", SumLike<SumImpl>);
  Export(env, e, "mean", SumLike<MeanImpl>);
  Export(env, e, "amax", MaxLike<AmaxImpl>);
  Export(env, e, "amin", MaxLike<AminImpl>);
  Export(env, e, "argmax", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::argmax(Unwrap(i[0]), Int(i[1]), Bool(i[2])));
  });
  Export(env, e, "norm", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::norm(Unwrap(i[0]))); });
}

void RegisterShape(Napi::Env env, Napi::Object e) {
  Export(env, e, "reshape", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::reshape(Unwrap(i[0]), IntList(i[1]))); });
  Export(env, e, "permute", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), Unwrap(i[0]).permute(IntList(i[1]))); });
  Export(env, e, "transpose", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::transpose(Unwrap(i[0]), Int(i[1]), Int(i[2])));
  });
  Export(env, e, "flatten", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::flatten(Unwrap(i[0]), Int(i[1]), Int(i[2])));
  });
  Export(env, e, "squeeze", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::squeeze(Unwrap(i[0]), Int(i[1]))); });
  Export(env, e, "unsqueeze", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::unsqueeze(Unwrap(i[0]), Int(i[1]))); });
  Export(env, e, "expand", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), Unwrap(i[0]).expand(IntList(i[1]))); });
  Export(env, e, "cat", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::cat(UnwrapList(i[0]), Int(i[1]))); });
  Export(env, e, "stack", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::stack(UnwrapList(i[0]), Int(i[1]))); });
  Export(env, e, "slice", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::slice(Unwrap(i[0]), Int(i[1]), Int(i[2]), Int(i[3]), Int(i[4])));
  });
  Export(env, e, "indexSelect", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::index_select(Unwrap(i[0]), Int(i[1]), Unwrap(i[2])));
  });
  Export(env, e, "gather", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::gather(Unwrap(i[0]), Int(i[1]), Unwrap(i[2]))); });
  Export(env, e, "oneHot", [](const Napi::CallbackInfo& i) { return Wrap(i.Env(), at::one_hot(Unwrap(i[0]), Int(i[1]))); });
  Export(env, e, "pad", [](const Napi::CallbackInfo& i) {
    return Wrap(i.Env(), at::constant_pad_nd(Unwrap(i[0]), IntList(i[1]), ToScalar(i[2])));
  });
}

// In-place updates, used by the optimizers inside a no-grad scope.
void RegisterInPlace(Napi::Env env, Napi::Object e) {
  Export(env, e, "mul_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).mul_(Unwrap(i[1]));
    return Undef(i);
  });
  Export(env, e, "mulScalar_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).mul_(ToScalar(i[1]));
    return Undef(i);
  });
  Export(env, e, "add_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).add_(Unwrap(i[1]), ToScalar(i[2]));
    return Undef(i);
  });
  Export(env, e, "addScalar_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).add_(ToScalar(i[1]), ToScalar(i[2]));
    return Undef(i);
  });
  Export(env, e, "addcmul_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).addcmul_(Unwrap(i[1]), Unwrap(i[2]), ToScalar(i[3]));
    return Undef(i);
  });
  Export(env, e, "addcdiv_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).addcdiv_(Unwrap(i[1]), Unwrap(i[2]), ToScalar(i[3]));
    return Undef(i);
  });
  Export(env, e, "lerp_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).lerp_(Unwrap(i[1]), ToScalar(i[2]));
    return Undef(i);
  });
  Export(env, e, "copy_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).copy_(Unwrap(i[1]));
    return Undef(i);
  });
  Export(env, e, "fill_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).fill_(ToScalar(i[1]));
    return Undef(i);
  });
  Export(env, e, "uniform_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).uniform_(Double(i[1]), Double(i[2]));
    return Undef(i);
  });
  Export(env, e, "normal_", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Unwrap(i[0]).normal_(Double(i[1]), Double(i[2]));
    return Undef(i);
  });
}

}  // namespace

void RegisterOps(Napi::Env env, Napi::Object exports) {
  RegisterMath(env, exports);
  RegisterShape(env, exports);
  RegisterInPlace(env, exports);
}

}  // namespace nodal
