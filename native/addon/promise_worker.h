// One whole operation on the libuv pool: inputs were copied into `run` on the JS thread,
// `run` never touches JS, and the result or a structured error settles a Promise.
#pragma once
#include <napi.h>

#include <functional>
#include <optional>

#include "core/error.h"

namespace nbaddon {

Napi::Error toJsError(Napi::Env env, const nb::EngineError& e);

template <typename R>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Run = std::function<R()>;
  using ToJs = std::function<Napi::Value(Napi::Env, const R&)>;

  static Napi::Promise start(Napi::Env env, Run run, ToJs toJs) {
    auto* w = new PromiseWorker(env, std::move(run), std::move(toJs));
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();  // node-addon-api deletes the worker after OnOK/OnError
    return p;
  }

 protected:
  void Execute() override {
    try {
      result_ = run_();
    } catch (const nb::EngineError& e) {
      error_ = e;
    } catch (const std::exception& e) {
      error_ = nb::EngineError("INTERNAL", e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (error_) deferred_.Reject(toJsError(env, *error_).Value());
    else deferred_.Resolve(toJs_(env, *result_));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  PromiseWorker(Napi::Env env, Run run, ToJs toJs)
      : Napi::AsyncWorker(env, "nbuild:layer"), deferred_(Napi::Promise::Deferred::New(env)),
        run_(std::move(run)), toJs_(std::move(toJs)) {}
  Napi::Promise::Deferred deferred_;
  Run run_;
  ToJs toJs_;
  std::optional<R> result_;
  std::optional<nb::EngineError> error_;
};

}  // namespace nbaddon
