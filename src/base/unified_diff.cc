#include "base/unified_diff.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace graft {

namespace fs = std::filesystem;

namespace {

// "a/x.c\t2024-01-01 ..." -> "a/x.c"; git quotes names with odd characters.
std::string HeaderPath(const std::string& line) {
  std::string p = line.substr(4);
  if (size_t tab = p.find('\t'); tab != std::string::npos) p.resize(tab);
  while (!p.empty() && (p.back() == ' ' || p.back() == '\r')) p.pop_back();
  if (p.size() >= 2 && p.front() == '"' && p.back() == '"') p = p.substr(1, p.size() - 2);
  return p;
}

// "@@ -12,7 +12,8 @@": the old and new line counts (",N" omitted means 1).
bool HunkCounts(const std::string& line, long& old_lines, long& new_lines) {
  auto count = [](const std::string& s, size_t at, long& n) {
    size_t comma = s.find(',', at), space = s.find(' ', at);
    n = comma != std::string::npos && comma < space ? std::atol(s.c_str() + comma + 1) : 1;
  };
  size_t minus = line.find(" -"), plus = line.find(" +");
  if (line.rfind("@@ ", 0) != 0 || minus == std::string::npos || plus == std::string::npos) return false;
  count(line, minus + 2, old_lines);
  count(line, plus + 2, new_lines);
  return true;
}

}  // namespace

Result<std::vector<FileChange>> ReadUnifiedDiff(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Err("cannot read diff {}", path);
  std::vector<FileChange> out;
  FileChange git;  // flags of the "diff --git" block being read
  bool in_git = false;
  std::string line, minus;
  long old_left = 0, new_left = 0;
  int lineno = 0;
  while (std::getline(in, line)) {
    lineno++;
    if (old_left > 0 || new_left > 0) {
      // Inside a hunk: ' ' and '\' lines and empty lines (some tools strip
      // the space of empty context lines) count as context.
      char c = line.empty() ? ' ' : line[0];
      if (c == '-') old_left--;
      else if (c == '+') new_left--;
      else if (c == ' ') old_left--, new_left--;
      else if (c != '\\') return Err("{}:{}: hunk ends early (line counts of its @@ header do not match)", path, lineno);
      continue;
    }
    if (line.rfind("diff --git ", 0) == 0) {
      git = FileChange();
      in_git = true;
      continue;
    }
    if (in_git) {
      if (line.rfind("new file mode", 0) == 0) git.created = true;
      else if (line.rfind("deleted file mode", 0) == 0) git.deleted = true;
      else if (line.rfind("rename from ", 0) == 0) git.renamed = true, git.old_path = line.substr(12);
      else if (line.rfind("rename to ", 0) == 0) git.new_path = line.substr(10);
      else if (line.rfind("Binary files ", 0) == 0 || line == "GIT binary patch") git.binary = true;
      if ((git.renamed && !git.new_path.empty() && line.rfind("rename to ", 0) == 0) || git.binary) {
        // A rename without content change or a binary change has no ---/+++.
        out.push_back(git);
        in_git = false;
      }
    }
    if (line.rfind("--- ", 0) == 0) {
      minus = HeaderPath(line);
      continue;
    }
    if (line.rfind("+++ ", 0) == 0 && !minus.empty()) {
      FileChange c = in_git ? git : FileChange();
      c.old_path = minus;
      c.new_path = HeaderPath(line);
      c.created = c.created || c.old_path == "/dev/null";
      c.deleted = c.deleted || c.new_path == "/dev/null";
      out.push_back(c);
      in_git = false;
      minus.clear();
      continue;
    }
    if (HunkCounts(line, old_left, new_left)) {
      if (out.empty()) return Err("{}:{}: a hunk before any file header", path, lineno);
      continue;
    }
  }
  if (old_left > 0 || new_left > 0) return Err("{}: the last hunk is cut short", path);
  if (out.empty()) return Err("{} changes no file (not a unified diff?)", path);
  return out;
}

std::string StripComponents(const std::string& path, int strip) {
  size_t at = 0;
  for (int i = 0; i < strip; i++) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) return "";
    at = slash + 1;
    while (at < path.size() && path[at] == '/') at++;
  }
  return path.substr(at);
}

Result<TreeChanges> ChangesInTree(const std::string& diff, const std::string& tree, const std::string& what) {
  GRAFT_ASSIGN(std::vector<FileChange> changes, ReadUnifiedDiff(diff));
  for (const FileChange& c : changes) {
    if (c.created) return Err("{} adds {}: {} can only change existing files", diff, c.new_path, what);
    if (c.deleted) return Err("{} deletes {}: {} can only change existing files", diff, c.old_path, what);
    if (c.renamed) return Err("{} renames {} to {}: {} can only change files in place", diff, c.old_path, c.new_path, what);
    if (c.binary) return Err("{} changes binary file {}: {} needs a text diff", diff, c.new_path, what);
  }
  // patch -p1 for "a/x b/x", "src.orig/x src/x", "linux-6.1/x"...; -p0 for
  // diffs made inside the tree. The level must fit every file of the diff.
  for (int strip : {1, 0}) {
    TreeChanges tc;
    tc.strip = strip;
    bool all = true;
    for (const FileChange& c : changes) {
      std::string rel = StripComponents(c.new_path, strip);
      if (rel.empty() || !fs::is_regular_file(fs::path(tree) / rel)) {
        all = false;
        break;
      }
      if (std::find(tc.files.begin(), tc.files.end(), rel) == tc.files.end()) tc.files.push_back(rel);
    }
    if (all) return tc;
  }
  for (const FileChange& c : changes)
    if (!fs::is_regular_file(fs::path(tree) / StripComponents(c.new_path, 1)) &&
        !fs::is_regular_file(fs::path(tree) / c.new_path))
      return Err("{} changes {}, which is not in {} (neither with its first directory removed, as patch -p1 does, nor "
                 "as written): is the tree the sources this fix was made for?", diff, c.new_path, tree);
  return Err("{} mixes path styles: no single -p level finds all its files in {}", diff, tree);
}

}  // namespace graft
