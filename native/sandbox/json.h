// A minimal JSON reader for the spec that the TS side writes on the helper's stdin.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace nbs {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string str;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> fields;

  const Json* get(const std::string& key) const;
  // Typed accessors: throw std::runtime_error naming the key when the type is wrong.
  std::string getString(const std::string& key, const std::string& fallback = "") const;
  bool getBool(const std::string& key, bool fallback = false) const;
  unsigned getUint(const std::string& key, unsigned fallback = 0) const;
  std::vector<std::string> getStrings(const std::string& key) const;
};

Json parseJson(const std::string& text);

}  // namespace nbs
