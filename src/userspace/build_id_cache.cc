// Parsing happens outside the lock: two threads asking for one new file at
// once may both parse it, and the second result is dropped; nobody waits for
// another's parse.
#include "userspace/build_id_cache.h"

#include <pthread.h>

#include <set>

namespace graft::userspace {

namespace {

// What an entry holds: its file image plus, roughly, the symbol tables.
size_t Footprint(const elf::ObjectFile& f) {
  size_t n = 0;
  for (const elf::Section& s : f.sections()) n += s.data.size();
  n += (f.symbols().size() + f.dynamic_symbols().size()) * (sizeof(elf::Symbol) + 24);
  n += f.dynamic_relocations().size() * sizeof(elf::Relocation);
  return n;
}

// Every live cache, so that fork() takes their locks first and the child
// starts with none held: the forking thread holds them, and in the child it
// is the only thread, which releases them.
std::mutex g_live_mu;
std::set<std::mutex*>* g_live = nullptr;

void LockAllForFork() {
  g_live_mu.lock();
  if (g_live)
    for (std::mutex* m : *g_live) m->lock();
}

void UnlockAllAfterFork() {
  if (g_live)
    for (std::mutex* m : *g_live) m->unlock();
  g_live_mu.unlock();
}

}  // namespace

BuildIdCache::BuildIdCache(size_t max_bytes) : max_bytes_(max_bytes) {
  static const int registered = pthread_atfork(LockAllForFork, UnlockAllAfterFork, UnlockAllAfterFork);
  (void)registered;
  std::lock_guard<std::mutex> g(g_live_mu);
  if (!g_live) g_live = new std::set<std::mutex*>();
  g_live->insert(&mu_);
}

BuildIdCache::~BuildIdCache() {
  std::lock_guard<std::mutex> g(g_live_mu);
  g_live->erase(&mu_);
}

Result<std::shared_ptr<const elf::ObjectFile>> BuildIdCache::Object(const std::string& build_id,
                                                                    const std::string& path,
                                                                    const std::string& fallback) {
  if (!build_id.empty()) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = files_.find(build_id);
    if (it != files_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      counters_.file_hits++;
      return it->second.file;
    }
  }
  auto opened = elf::ObjectFile::Open(path);
  if (!opened.ok() && !fallback.empty()) opened = elf::ObjectFile::Open(fallback);
  if (!opened.ok()) return opened.error();
  std::shared_ptr<const elf::ObjectFile> f = std::move(*opened);
  std::lock_guard<std::mutex> g(mu_);
  counters_.files_parsed++;
  if (build_id.empty() || f->build_id() != build_id) return f;
  auto [it, fresh] = files_.try_emplace(build_id);
  if (!fresh) return it->second.file;
  lru_.push_front(build_id);
  it->second = Entry{f, Footprint(*f), lru_.begin()};
  bytes_ += it->second.bytes;
  EvictLocked();
  return f;
}

void BuildIdCache::EvictLocked() {
  // The newest entry stays even when it alone is over the bound.
  while (bytes_ > max_bytes_ && lru_.size() > 1) {
    auto it = files_.find(lru_.back());
    bytes_ -= it->second.bytes;
    files_.erase(it);
    lru_.pop_back();
    counters_.evicted++;
  }
}

std::optional<GadgetOffsets> BuildIdCache::Gadgets(const std::string& build_id, uint64_t offset, uint64_t size) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = gadgets_.find({build_id, offset, size});
  if (it == gadgets_.end()) return std::nullopt;
  counters_.gadget_hits++;
  return it->second;
}

void BuildIdCache::PutGadgets(const std::string& build_id, uint64_t offset, uint64_t size, GadgetOffsets o) {
  std::lock_guard<std::mutex> g(mu_);
  // A few dozen bytes per distinct C library: bounded by the files on the host.
  if (gadgets_.size() >= 4096) gadgets_.clear();
  gadgets_[{build_id, offset, size}] = o;
}

void BuildIdCache::CountGadgetScan() {
  std::lock_guard<std::mutex> g(mu_);
  counters_.gadget_scans++;
}

BuildIdCache::Counters BuildIdCache::counters() const {
  std::lock_guard<std::mutex> g(mu_);
  return counters_;
}

size_t BuildIdCache::bytes() const {
  std::lock_guard<std::mutex> g(mu_);
  return bytes_;
}

}  // namespace graft::userspace
