// `nbuild-sandbox materialize` and `nbuild-sandbox diff`: JSON on stdin, one JSON line on stdout.
// Run inside the user namespace, so that ownership can be copied.
#include <cstdio>
#include <exception>

#include "sandbox/json.h"
#include "sandbox/tree.h"
#include "sandbox/util.h"

namespace nbs {

int runTreeCommand(TreeStats (*op)(const Json& request)) {
  try {
    TreeStats st = op(parseJson(readAll(0)));
    std::printf("{\"ok\":true,\"files\":%llu,\"dirs\":%llu,\"whiteouts\":%llu,\"bytes\":%llu}\n", st.files, st.dirs,
                st.whiteouts, st.bytes);
    return 0;
  } catch (const EngineError& e) {
    std::printf("{\"ok\":false,\"errno\":%d,\"message\":%s}\n", e.err, jsonQuote(e.what()).c_str());
  } catch (const std::exception& e) {
    std::printf("{\"ok\":false,\"errno\":0,\"message\":%s}\n", jsonQuote(e.what()).c_str());
  }
  return 1;
}

int treeMain(bool diff) {
  if (diff) {
    return runTreeCommand([](const Json& j) { return diffTree(j.getStrings("lowerDirs"), j.getString("snapshot"), j.getString("upper")); });
  }
  return runTreeCommand([](const Json& j) { return materialize(j.getStrings("lowerDirs"), j.getString("dest")); });
}

}  // namespace nbs
