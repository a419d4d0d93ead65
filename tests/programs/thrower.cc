// A long-running C++ program for the exceptions scenario: every 20 ms it
// prices an item, and every third quantity is negative. price() throws for
// quantities it refuses and main() catches; -DFIXED refuses negative ones too,
// so after the patch exceptions are thrown inside the new code and must unwind
// through it to main's handler. `thrower N` adds N threads that throw and
// catch all the time, so the process is often inside the unwinder.
#include <cstdio>
#include <stdexcept>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

__attribute__((noinline)) int price(const std::string& item, int qty) {
#ifdef FIXED
  if (qty < 0 || qty > 1000) throw std::runtime_error("refused quantity for " + item);
#else
  if (qty > 1000) throw std::runtime_error("refused quantity for " + item);
#endif
  return qty * static_cast<int>(item.size());
}

int main(int argc, char** argv) {
  for (int t = 0; t < (argc > 1 ? std::atoi(argv[1]) : 0); t++)
    std::thread([] {
      for (;;) {
        try {
          throw std::runtime_error("busy");
        } catch (const std::exception&) {
        }
        usleep(200);
      }
    }).detach();
  std::vector<int> seen;
  std::printf("ready\n");
  std::fflush(stdout);
  for (int i = 0;; i++) {
    try {
      seen.push_back(price("apple", i % 3 == 0 ? -5 : 2));
      std::printf("price %d\n", seen.back());
    } catch (const std::exception& e) {
      std::printf("error %s\n", e.what());
    }
    std::fflush(stdout);
    usleep(20000);
  }
}
