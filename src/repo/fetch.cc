#include "repo/fetch.h"

#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <mutex>

namespace graft::repo {

namespace fs = std::filesystem;

namespace {

struct Sink {
  FILE* out = nullptr;
  long long written = 0, max = 0;
};

size_t Write(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  s->written += static_cast<long long>(size * n);
  if (s->written > s->max) return 0;  // aborts the transfer
  return fwrite(data, size, n, s->out);
}

Status CopyLocal(const std::string& from, const std::string& tmp) {
  std::error_code ec;
  if (!fs::exists(from, ec)) return Err("{} does not exist", from);
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return Err("cannot read {}: {}", from, ec.message());
  return OkStatus();
}

}  // namespace

Result<std::string> NormalizeUrl(const std::string& url) {
  std::string u = url;
  while (u.size() > 1 && u.back() == '/') u.pop_back();
  if (u.starts_with("http://") || u.starts_with("https://") || u.starts_with("file:///")) return u;
  if (u.starts_with("/")) return "file://" + u;
  return Err("'{}' is not a repository URL: use http://, https://, file:///PATH or an absolute path", url);
}

Status FetchFile(const std::string& base_url, const std::string& rel, const std::string& dest,
                 const FetchOptions& opt) {
  std::string url = base_url + "/" + rel;
  std::string tmp = dest + ".part";
  std::error_code ec;
  fs::create_directories(fs::path(dest).parent_path(), ec);
  if (url.starts_with("file://")) {
    GRAFT_TRY(CopyLocal(url.substr(7), tmp));
  } else {
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    Sink sink;
    sink.max = opt.max_bytes;
    sink.out = fopen(tmp.c_str(), "wb");
    if (!sink.out) return Err("cannot write {}", tmp);
    CURL* c = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, opt.timeout_seconds);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "graft-update/1");
    // Only the web's schemes, also after a redirect: a repository cannot
    // point graft at local files.
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    bool wrote = fclose(sink.out) == 0;
    if (rc != CURLE_OK || code != 200 || !wrote) {
      fs::remove(tmp, ec);
      if (sink.written > sink.max) return Err("{}: larger than {} bytes: refused", url, sink.max);
      if (rc != CURLE_OK) return Err("cannot fetch {}: {}", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
      if (code != 200) return Err("cannot fetch {}: HTTP status {}", url, code);
      return Err("cannot write {}", tmp);
    }
  }
  fs::rename(tmp, dest, ec);
  if (ec) return Err("cannot write {}: {}", dest, ec.message());
  return OkStatus();
}

}  // namespace graft::repo
