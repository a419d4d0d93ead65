// Lays a bundle out in the target process and relocates it: a code region
// (record page, text, read-only data) and a data region right after it, at an
// address chosen within rel32 reach of everything the code touches.
#pragma once

#include <cstdint>
#include <vector>

#include "bundle/bundle.h"
#include "userspace/patch_record.h"
#include "userspace/process_image.h"

namespace graft::userspace {

// Return traps each patch mapping carries: as many busy threads can be run
// out of functions at once.
inline constexpr uint64_t kReturnTraps = 64;

struct LinkedPatch {
  uint64_t base = 0;
  uint64_t code_size = 0, data_size = 0;  // page multiples; data follows code
  std::vector<uint8_t> image;             // code_size + data_size bytes, record first
  PatchRecord record;
};

// Chooses where the patch goes and links it there. `image` is the process's
// view; `target` the loaded object the bundle is for.
Result<LinkedPatch> LinkPatch(const bundle::Bundle& b, ProcessImage& image, const LoadedObject& target);

}  // namespace graft::userspace
