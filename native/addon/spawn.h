// posix_spawn for the JS side (spawn.cc): the sandbox helper of each RUN step starts here.
#pragma once
#include <napi.h>

namespace nbaddon {

Napi::Value SpawnPiped(const Napi::CallbackInfo& info);

}  // namespace nbaddon
