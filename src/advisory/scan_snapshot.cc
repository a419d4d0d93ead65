// Layout: the magic, the number of records, then one record per advisory:
// its length, its packages
// first (so a record naming no wanted package is skipped after reading only
// the names), then the advisory's fields and CVEs. Lengths and counts are
// LEB128 varints; the CVSS score is the 8 bytes of an IEEE double.
#include "advisory/scan_snapshot.h"

#include <algorithm>
#include <cstring>

namespace graft::advisory {

namespace {

constexpr std::string_view kMagic = "graft-scan-snapshot-2\n";

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutString(std::string& out, const std::string& s) {
  PutVarint(out, s.size());
  out += s;
}

class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}
  bool ok() const { return ok_; }
  bool done() const { return p_ >= end_; }
  const char* pos() const { return p_; }
  void Seek(const char* p) { p_ = p <= end_ ? p : (ok_ = false, end_); }

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  std::string_view String() {
    uint64_t n = Varint();
    if (!ok_ || n > static_cast<uint64_t>(end_ - p_)) {
      ok_ = false;
      p_ = end_;
      return {};
    }
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  double Double() {
    double d = 0;
    if (end_ - p_ < 8) {
      ok_ = false;
      return 0;
    }
    memcpy(&d, p_, 8);
    p_ += 8;
    return d;
  }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace

std::string PackScanSnapshot(const std::vector<Advisory>& advisories) {
  std::string out(kMagic);
  PutVarint(out, advisories.size());
  std::string rec;
  for (const Advisory& a : advisories) {
    rec.clear();
    PutVarint(rec, a.packages.size());
    for (const FixedPackage& p : a.packages) {
      PutString(rec, p.name);
      PutString(rec, p.arch);
      PutString(rec, p.version);
      PutString(rec, p.ecosystem);
      PutString(rec, p.filename);
    }
    for (const std::string* s : {&a.id, &a.type, &a.severity, &a.title, &a.issued, &a.updated, &a.source,
                                 &a.cvss_vector})
      PutString(rec, *s);
    char score[8];
    memcpy(score, &a.cvss_score, 8);
    rec.append(score, 8);
    PutVarint(rec, a.cves.size());
    for (const std::string& c : a.cves) PutString(rec, c);
    PutVarint(out, rec.size());
    out += rec;
  }
  return out;
}

Result<std::vector<Advisory>> UnpackScanSnapshot(std::string_view blob,
                                                 const std::unordered_set<std::string_view>& names) {
  if (blob.substr(0, kMagic.size()) != kMagic) return Err("the scan snapshot has an unknown format");
  Reader r(blob.substr(kMagic.size()));
  std::vector<Advisory> out;
  // Growing the vector would move every advisory again, into fresh pages.
  out.reserve(std::min<uint64_t>(r.Varint(), blob.size()));
  while (!r.done() && r.ok()) {
    uint64_t len = r.Varint();
    const char* end = r.pos() + len;
    const char* start = r.pos();
    uint64_t n = r.Varint();
    bool wanted = false;
    for (uint64_t i = 0; i < n && r.ok() && !wanted; i++) {
      wanted = names.count(r.String()) > 0;
      for (int k = 0; k < 4; k++) r.String();
    }
    if (!wanted) {
      r.Seek(end);
      continue;
    }
    r.Seek(start);
    r.Varint();
    Advisory a;
    a.packages.resize(n);
    for (FixedPackage& p : a.packages) {
      p.name = r.String(), p.arch = r.String(), p.version = r.String(), p.ecosystem = r.String();
      p.filename = r.String();
    }
    for (std::string* s : {&a.id, &a.type, &a.severity, &a.title, &a.issued, &a.updated, &a.source, &a.cvss_vector})
      *s = r.String();
    a.cvss_score = r.Double();
    a.cves.resize(r.Varint());
    for (std::string& c : a.cves) c = r.String();
    if (r.pos() != end) return Err("the scan snapshot is damaged (a record's length does not match its fields)");
    out.push_back(std::move(a));
  }
  if (!r.ok()) return Err("the scan snapshot is truncated");
  return out;
}

}  // namespace graft::advisory
