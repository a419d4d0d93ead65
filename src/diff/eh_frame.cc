#include "diff/eh_frame.h"

#include <cstring>

namespace graft::diff {

Result<std::vector<EhRecord>> ParseEhFrame(std::span<const uint8_t> data) {
  std::vector<EhRecord> out;
  uint64_t off = 0;
  while (off + 4 <= data.size()) {
    uint32_t len;
    memcpy(&len, data.data() + off, 4);
    if (len == 0) break;  // terminator
    if (len == 0xffffffff) return Err(".eh_frame record at +{:#x} uses the 64-bit format", off);
    if (len < 4 || off + 4 + len > data.size()) return Err(".eh_frame record at +{:#x} is truncated", off);
    uint32_t id;
    memcpy(&id, data.data() + off + 4, 4);
    EhRecord r;
    r.offset = off;
    r.size = 4 + uint64_t(len);
    r.cie = id == 0;
    if (!r.cie) {
      if (id > off + 4) return Err(".eh_frame record at +{:#x} points before the section", off);
      r.cie_offset = off + 4 - id;
    }
    out.push_back(r);
    off += r.size;
  }
  return out;
}

}  // namespace graft::diff
