// Test support: compile small C programs with the system gcc into a private
// temporary directory, so unit tests diff and verify real objects.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace graft::testing {

class Scratch {
 public:
  Scratch() {
    char tmpl[] = "/tmp/graft-test.XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~Scratch() { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name)) << text;
    return Path(name);
  }
  // gcc FLAGS -c SOURCE -o NAME (flags include -ffunction-sections etc. as needed).
  std::string Compile(const std::string& source_name, const std::string& out_name, const std::string& flags) const {
    std::string cmd = "cd " + dir_ + " && gcc " + flags + " -o " + out_name + " " + source_name + " 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("compile failed: " + cmd);
    return Path(out_name);
  }

 private:
  std::string dir_;
};

inline constexpr const char* kObjectFlags = "-O2 -g -c -ffunction-sections -fdata-sections";

}  // namespace graft::testing
