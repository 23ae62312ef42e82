#pragma once
namespace nbs {
// Brings up the loopback interface of the current (new) network namespace.
void loopbackUp();
}  // namespace nbs
