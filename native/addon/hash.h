// SHA-256 of bytes held in JavaScript (strings, Buffers) and random hex, on the JS thread:
// configs, manifests, cache keys and temp names. Through the addon rather than node:crypto,
// whose first require loads ~17 modules (~10 ms of a no-op build; docs/decisions.md, "Start-up:
// a no-op build loads neither node:crypto nor node:stream"). The same OpenSSL digests either way.
#pragma once
#include <napi.h>

namespace nbaddon {

/** Sets Sha256 (a class: update(data) -> this, hex()), sha256Hex(data) and randomHex(bytes). */
void InitHash(Napi::Env env, Napi::Object exports);

}  // namespace nbaddon
