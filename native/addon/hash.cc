#include "addon/hash.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "core/sha256.h"

namespace nbaddon {

namespace {

// A string is hashed as UTF-8 (node:crypto's default for update(string)): lone surrogates
// become U+FFFD in both, as V8 writes them.
void updateWith(const Napi::Env& env, nb::Sha256& h, const Napi::Value& v) {
  if (v.IsString()) {
    size_t len = 0;
    napi_status s = napi_get_value_string_utf8(env, v, nullptr, 0, &len);
    if (s != napi_ok) throw Napi::Error::New(env, "sha256: cannot read the string");
    char small[1024];
    std::unique_ptr<char[]> big;
    char* buf = small;
    if (len + 1 > sizeof small) {
      big.reset(new char[len + 1]);
      buf = big.get();
    }
    size_t written = 0;
    napi_get_value_string_utf8(env, v, buf, len + 1, &written);
    h.update(buf, written);
  } else if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    const uint8_t* base = static_cast<const uint8_t*>(t.ArrayBuffer().Data());
    h.update(base ? base + t.ByteOffset() : nullptr, t.ByteLength());
  } else if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer a = v.As<Napi::ArrayBuffer>();
    h.update(a.Data(), a.ByteLength());
  } else {
    throw Napi::TypeError::New(env, "sha256: expected a string or bytes");
  }
}

std::string bareHex(nb::Sha256& h) { return h.finishHex().substr(7); }

class Sha256Object : public Napi::ObjectWrap<Sha256Object> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Sha256", {InstanceMethod("update", &Sha256Object::Update), InstanceMethod("hex", &Sha256Object::Hex)});
  }

  explicit Sha256Object(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sha256Object>(info), hash_(new nb::Sha256()) {}

 private:
  Napi::Value Update(const Napi::CallbackInfo& info) {
    if (!hash_) throw Napi::Error::New(info.Env(), "sha256: update after hex()");
    if (info.Length() < 1) throw Napi::TypeError::New(info.Env(), "sha256: expected a string or bytes");
    updateWith(info.Env(), *hash_, info[0]);
    return info.This();
  }

  // The digest as 64 hex digits; the object is finished after it (as node:crypto's digest()).
  Napi::Value Hex(const Napi::CallbackInfo& info) {
    if (!hash_) throw Napi::Error::New(info.Env(), "sha256: hex() called twice");
    std::string hex = bareHex(*hash_);
    hash_.reset();
    return Napi::String::New(info.Env(), hex);
  }

  std::unique_ptr<nb::Sha256> hash_;
};

Napi::Value Sha256Hex(const Napi::CallbackInfo& info) {
  if (info.Length() < 1) throw Napi::TypeError::New(info.Env(), "sha256: expected a string or bytes");
  nb::Sha256 h;
  updateWith(info.Env(), h, info[0]);
  return Napi::String::New(info.Env(), bareHex(h));
}

// `bytes` random bytes from the kernel (getrandom), as 2 * bytes hex digits.
Napi::Value RandomHex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "randomHex: expected a byte count");
  int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n < 1 || n > 256) throw Napi::RangeError::New(env, "randomHex: 1 to 256 bytes");
  unsigned char buf[256];
  size_t got = 0;
  while (got < size_t(n)) {
    ssize_t r = getrandom(buf + got, size_t(n) - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Napi::Error::New(env, std::string("getrandom: ") + std::strerror(errno));
    }
    got += size_t(r);
  }
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(size_t(n) * 2);
  for (size_t i = 0; i < size_t(n); i++) {
    out += digits[buf[i] >> 4];
    out += digits[buf[i] & 15];
  }
  return Napi::String::New(env, out);
}

}  // namespace

void InitHash(Napi::Env env, Napi::Object exports) {
  exports.Set("Sha256", Sha256Object::Define(env));
  exports.Set("sha256Hex", Napi::Function::New(env, Sha256Hex));
  exports.Set("randomHex", Napi::Function::New(env, RandomHex));
}

}  // namespace nbaddon
