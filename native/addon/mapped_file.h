// A file mapped read-only as a Buffer or an external latin1 string (mapped_file.cc).
#pragma once
#include <napi.h>

namespace nbaddon {

Napi::Value MapFile(const Napi::CallbackInfo& info);

}  // namespace nbaddon
