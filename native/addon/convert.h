// JS option objects → plain core structs, on the JS thread. The TS facade has validated
// types and applied defaults; these checks only keep a bad call from crashing the process.
#pragma once
#include <napi.h>

#include "core/layer_extractor.h"
#include "core/layer_writer.h"

namespace nbaddon {

nb::WriteOptions toWriteOptions(const Napi::Object& o);
nb::ExtractOptions toExtractOptions(const Napi::Object& o);
Napi::Value layerResultToJs(Napi::Env env, const nb::LayerResult& r);
// A file's sha256 as it was read ({ digest, size, identity? }: identity only when stable).
Napi::Value hashedFileToJs(Napi::Env env, const nb::HashedCopy& c);

}  // namespace nbaddon
