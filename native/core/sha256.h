// SHA-256 through OpenSSL's EVP interface. Node exports its bundled OpenSSL (and node's
// headers ship its include files), so the addon links no libcrypto of its own; OpenSSL picks
// SHA-NI / ARMv8 crypto instructions at run time (about 3x sha256sum here, see decisions.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct evp_md_ctx_st;

namespace nb {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  std::string finishHex();  // "sha256:<hex>"

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace nb
