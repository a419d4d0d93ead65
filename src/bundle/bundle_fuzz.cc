// libFuzzer target for the bundle decoder, the parser of untrusted input that
// `graft info/apply` run first. Build: clang++ -std=c++20 -fsanitize=fuzzer,address
//   -Isrc src/bundle/bundle_fuzz.cc src/bundle/bundle.cc -lsodium -lfmt
#include <cstddef>
#include <cstdint>
#include <vector>

#include <sodium.h>

#include "bundle/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  (void)graft::bundle::Decode(bytes, "fuzz");
  // Past the checksum: the input as a payload with a valid header and hash,
  // so the CBOR parser and the field validation are fuzzed too.
  auto framed = graft::bundle::Encode(graft::bundle::Bundle{});
  framed.resize(44);
  framed.insert(framed.end(), data, data + size);
  crypto_generichash(&framed[12], 32, data, size, nullptr, 0);
  (void)graft::bundle::Decode(framed, "fuzz");
  return 0;
}
