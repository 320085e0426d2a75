// torture: see src/torture.h and README.md.
#include <cstdio>
#include <exception>
#include <string>

#include "cli.h"
#include "error.h"
#include "torture.h"

int main(int argc, char** argv) {
  using namespace mmscale;
  const char* prog = argc > 0 ? argv[0] : "torture";
  try {
    const auto args = args_of(argc, argv);
    torture::Options o = torture::parse_options(args);
    if (o.help) {
      std::fputs(torture::usage(prog).c_str(), stdout);
      return 0;
    }
    if (!o.seed) o.seed = torture::time_seed();
    // The seed first, on its own line, so that it survives a crash.
    std::fprintf(o.json ? stderr : stdout, "torture: seed %llu\n",
                 static_cast<unsigned long long>(*o.seed));
    std::fflush(nullptr);
    const torture::Summary s = torture::run(o);
    const std::string out = o.json ? s.to_json().dump() + "\n" : s.to_text();
    std::fputs(out.c_str(), stdout);
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n%s", prog, e.what(), torture::usage(prog).c_str());
    return kExitUsage;
  } catch (const torture::Failure& e) {
    std::fflush(stdout);
    std::fputs(e.what(), stderr);
    return kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    return kExitFailure;
  }
}
