// ebizzy: see src/ebizzy.h and README.md.
#include <cstdio>
#include <exception>

#include "cli.h"
#include "ebizzy.h"
#include "error.h"

int main(int argc, char** argv) {
  using namespace mmscale;
  const char* prog = argc > 0 ? argv[0] : "ebizzy";
  try {
    const auto args = args_of(argc, argv);
    const EbizzyOptions o = parse_ebizzy_options(args);
    if (o.help) {
      std::fputs(ebizzy_usage(prog).c_str(), stdout);
      return 0;
    }
    const EbizzyResult r = run_ebizzy(o);
    const std::string out = o.json ? ebizzy_json(o, r).dump() + "\n" : format_ebizzy_text(r);
    std::fputs(out.c_str(), stdout);
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n%s", prog, e.what(), ebizzy_usage(prog).c_str());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    return kExitFailure;
  }
}
