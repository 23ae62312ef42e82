// core: plain C++17, never includes napi.h.
