#include "sandbox/json.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace nbs {
namespace {

struct Parser {
  const std::string& s;
  size_t i = 0;

  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("bad spec JSON: ") + what + " at offset " + std::to_string(i));
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) {
      i++;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail("unexpected character");
  }
  void appendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  unsigned hex4() {
    if (i + 4 > s.size()) fail("short \\u escape");
    unsigned v = static_cast<unsigned>(std::strtoul(s.substr(i, 4).c_str(), nullptr, 16));
    i += 4;
    return v;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) fail("bad escape");
      char e = s[i++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u') {
            i += 2;
            unsigned lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          appendUtf8(out, cp);
          break;
        }
        default: out += e;
      }
    }
    if (i >= s.size()) fail("unterminated string");
    i++;
    return out;
  }
  Json value() {
    ws();
    if (i >= s.size()) fail("unexpected end");
    Json v;
    char c = s[i];
    if (c == '{') {
      i++;
      v.kind = Json::Object;
      if (eat('}')) return v;
      do {
        ws();
        std::string key = string();
        expect(':');
        v.fields.emplace_back(key, value());
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      i++;
      v.kind = Json::Array;
      if (eat(']')) return v;
      do v.items.push_back(value());
      while (eat(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Json::String;
      v.str = string();
    } else if (s.compare(i, 4, "true") == 0) {
      i += 4;
      v.kind = Json::Bool;
      v.boolean = true;
    } else if (s.compare(i, 5, "false") == 0) {
      i += 5;
      v.kind = Json::Bool;
    } else if (s.compare(i, 4, "null") == 0) {
      i += 4;
    } else {
      char* end = nullptr;
      v.kind = Json::Number;
      v.number = std::strtod(s.c_str() + i, &end);
      if (end == s.c_str() + i) fail("bad value");
      i = static_cast<size_t>(end - s.c_str());
    }
    return v;
  }
};

}  // namespace

const Json* Json::get(const std::string& key) const {
  for (const auto& f : fields)
    if (f.first == key) return &f.second;
  return nullptr;
}

std::string Json::getString(const std::string& key, const std::string& fallback) const {
  const Json* v = get(key);
  if (!v || v->kind == Null) return fallback;
  if (v->kind != String) throw std::runtime_error("spec: " + key + " must be a string");
  return v->str;
}

bool Json::getBool(const std::string& key, bool fallback) const {
  const Json* v = get(key);
  if (!v || v->kind == Null) return fallback;
  if (v->kind != Bool) throw std::runtime_error("spec: " + key + " must be a boolean");
  return v->boolean;
}

unsigned Json::getUint(const std::string& key, unsigned fallback) const {
  const Json* v = get(key);
  if (!v || v->kind == Null) return fallback;
  if (v->kind != Number || v->number < 0 || v->number > 4294967295.0 || std::floor(v->number) != v->number)
    throw std::runtime_error("spec: " + key + " must be an unsigned integer");
  return static_cast<unsigned>(v->number);
}

std::vector<std::string> Json::getStrings(const std::string& key) const {
  std::vector<std::string> out;
  const Json* v = get(key);
  if (!v || v->kind == Null) return out;
  if (v->kind != Array) throw std::runtime_error("spec: " + key + " must be an array");
  for (const auto& item : v->items) {
    if (item.kind != String) throw std::runtime_error("spec: " + key + " must hold strings");
    out.push_back(item.str);
  }
  return out;
}

Json parseJson(const std::string& text) {
  Parser p{text};
  Json v = p.value();
  p.ws();
  if (p.i != text.size()) p.fail("trailing data");
  return v;
}

}  // namespace nbs
