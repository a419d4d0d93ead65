#include "advisory/compressed_file.h"

#include <lzma.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace graft::advisory {
namespace {

Result<std::string> Gunzip(const std::string& in, const std::string& path) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Err("{}: cannot start zlib", path);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      std::string msg = z.msg ? z.msg : "corrupt data";
      inflateEnd(&z);
      return Err("{}: gzip data is corrupt: {}", path, msg);
    }
    out.append(buf, sizeof buf - z.avail_out);
    if (rc != Z_STREAM_END && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return Err("{}: gzip data is truncated", path);
    }
  } while (rc != Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

Result<std::string> Unxz(const std::string& in, const std::string& path) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) return Err("{}: cannot start xz", path);
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  std::string out;
  uint8_t buf[1 << 16];
  lzma_ret rc;
  do {
    s.next_out = buf;
    s.avail_out = sizeof buf;
    rc = lzma_code(&s, LZMA_FINISH);
    out.append(reinterpret_cast<char*>(buf), sizeof buf - s.avail_out);
  } while (rc == LZMA_OK);
  lzma_end(&s);
  if (rc != LZMA_STREAM_END) return Err("{}: xz data is corrupt or truncated (lzma error {})", path, int(rc));
  return out;
}

}  // namespace

Result<std::string> ReadMaybeCompressed(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Err("{}: {}", path, std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string data = ss.str();
  if (data.size() >= 2 && uint8_t(data[0]) == 0x1f && uint8_t(data[1]) == 0x8b) return Gunzip(data, path);
  if (data.size() >= 6 && data.compare(0, 6, "\xfd" "7zXZ\0", 6) == 0) return Unxz(data, path);
  return data;
}

}  // namespace graft::advisory
