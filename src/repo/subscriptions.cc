#include "repo/subscriptions.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "repo/fetch.h"

namespace graft::repo {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string ListPath(const std::string& state_dir) { return state_dir + "/channels.json"; }

Status WriteJson(const std::string& path, const json& j) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  {
    std::ofstream o(path + ".tmp", std::ios::trunc);
    o << j.dump(2) << "\n";
    if (!o.flush()) return Err("cannot write {}", path);
  }
  fs::rename(path + ".tmp", path, ec);
  if (ec) return Err("cannot write {}: {}", path, ec.message());
  return OkStatus();
}

Status WriteSubscriptions(const std::string& state_dir, const std::vector<Subscription>& subs) {
  json list = json::array();
  for (const auto& s : subs)
    list.push_back({{"name", s.name}, {"url", s.url}, {"channel", s.channel}, {"delay_hours", s.delay_hours},
                    {"added", s.added}});
  return WriteJson(ListPath(state_dir), {{"channels", list}});
}

bool ValidName(const std::string& s) {
  return !s.empty() && s.size() <= 64 && s[0] != '.' &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
}

}  // namespace

std::string ChannelDir(const std::string& state_dir, const std::string& name) {
  return state_dir + "/channels/" + name;
}

Result<std::vector<Subscription>> ReadSubscriptions(const std::string& state_dir) {
  std::ifstream in(ListPath(state_dir));
  if (!in) return std::vector<Subscription>{};
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("channels"))
    return Err("{} is damaged: remove it and add the channels again", ListPath(state_dir));
  std::vector<Subscription> out;
  for (const auto& c : j["channels"])
    out.push_back({c.value("name", ""), c.value("url", ""), c.value("channel", ""), c.value("delay_hours", 0.0),
                   c.value("added", "")});
  return out;
}

Status AddSubscription(const std::string& state_dir, const Subscription& s) {
  if (!ValidName(s.name)) return Err("'{}' is not a usable channel name (letters, digits, . _ -)", s.name);
  if (!ValidName(s.channel)) return Err("'{}' is not a channel of a graft repository", s.channel);
  if (s.delay_hours < 0) return Err("--delay must not be negative");
  GRAFT_ASSIGN(std::string url, NormalizeUrl(s.url));
  GRAFT_ASSIGN(auto subs, ReadSubscriptions(state_dir));
  for (const auto& x : subs)
    if (x.name == s.name) return Err("a channel named {} is already subscribed ({} {}): remove it first", s.name, x.url, x.channel);
  Subscription n = s;
  n.url = url;
  n.added = Iso8601();
  subs.push_back(n);
  return WriteSubscriptions(state_dir, subs);
}

Status RemoveSubscription(const std::string& state_dir, const std::string& name) {
  GRAFT_ASSIGN(auto subs, ReadSubscriptions(state_dir));
  if (std::erase_if(subs, [&](const Subscription& s) { return s.name == name; }) == 0)
    return Err("no channel named {} is subscribed (see graft channel list)", name);
  GRAFT_TRY(WriteSubscriptions(state_dir, subs));
  std::error_code ec;
  fs::remove_all(ChannelDir(state_dir, name), ec);
  return OkStatus();
}

ChannelState ReadChannelState(const std::string& state_dir, const std::string& name) {
  ChannelState st;
  std::ifstream in(ChannelDir(state_dir, name) + "/state.json");
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return st;
  st.sequence = j.value("sequence", 0LL);
  st.fetched = j.value("fetched", "");
  st.error = j.value("error", "");
  st.attempted = j.value("attempted", "");
  return st;
}

Status WriteChannelState(const std::string& state_dir, const std::string& name, const ChannelState& st) {
  return WriteJson(ChannelDir(state_dir, name) + "/state.json",
                   {{"sequence", st.sequence}, {"fetched", st.fetched}, {"error", st.error}, {"attempted", st.attempted}});
}

Result<Index> CachedIndex(const std::string& state_dir, const std::string& name) {
  std::string path = ChannelDir(state_dir, name) + "/index.json";
  std::ifstream in(path);
  if (!in) return Err("channel {} was never fetched: run graft update", name);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseIndex(text, path);
}

}  // namespace graft::repo
