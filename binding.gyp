{
  # Two targets: the N-API addon (layer engine: tar, compression, hashing, extraction)
  # and the single-threaded sandbox helper executable (user namespaces cannot be
  # entered from a multi-threaded process such as node).
  "targets": [
    {
      "target_name": "nbuild_native",
      "sources": [
        "<!@(ls -1 native/addon/*.cc)",
        "<!@(ls -1 native/core/*.cc)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra"],
      "libraries": [],
      "ldflags": ["-pthread"]
    },
    {
      "target_name": "nbuild-sandbox",
      "type": "executable",
      "sources": [
        "<!@(ls -1 native/sandbox/*.cc)"
      ],
      "include_dirs": ["native"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra"]
    }
  ]
}
