// The channels a host follows (`graft channel add|remove|list`), kept in
// <state>/channels.json, and what the host last saw of each: the verified
// index (<state>/channels/NAME/index.json + .sig) and its sequence number,
// below which no index is accepted again.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "repo/index.h"

namespace graft::repo {

struct Subscription {
  std::string name;     // local name, [A-Za-z0-9._-]
  std::string url;      // the repository
  std::string channel;  // "stable", "testing", a topic
  double delay_hours = 0;  // install an entry only this long after it entered the channel
  std::string added;
};

struct ChannelState {
  long long sequence = 0;       // of the newest verified index
  std::string fetched;          // when it was fetched (ISO 8601)
  std::string error;            // of the last attempt, "" when it succeeded
  std::string attempted;        // when the last attempt was
};

Result<std::vector<Subscription>> ReadSubscriptions(const std::string& state_dir);
Status AddSubscription(const std::string& state_dir, const Subscription& s);
Status RemoveSubscription(const std::string& state_dir, const std::string& name);

std::string ChannelDir(const std::string& state_dir, const std::string& name);
ChannelState ReadChannelState(const std::string& state_dir, const std::string& name);
Status WriteChannelState(const std::string& state_dir, const std::string& name, const ChannelState& st);

// The last verified index of a subscription, if any was fetched.
Result<Index> CachedIndex(const std::string& state_dir, const std::string& name);

}  // namespace graft::repo
