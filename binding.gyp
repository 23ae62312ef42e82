{
  # Two targets: the N-API addon (layer engine: tar, compression, hashing, extraction)
  # and the single-threaded sandbox helper executable (user namespaces cannot be
  # entered from a multi-threaded process such as node).
  "targets": [
    {
      # The layer engine. zlib (deflate), libdeflate and zstd are linked statically and hidden
      # (--exclude-libs), so the bytes do not change with the zlib that node exports and an
      # installed nbuild needs no shared library besides glibc; SHA-256 uses the OpenSSL that
      # node itself exports (headers from node's include dir). See docs/decisions.md.
      "target_name": "nbuild_native",
      "dependencies": ["nbuild_zstd"],
      "sources": [
        "<!@(ls -1 native/addon/*.cc)",
        "<!@(ls -1 native/core/*.cc)",
        "native/compat/arc4random.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "OPENSSL_API_COMPAT=30000"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "libraries": ["-l:libz.a", "-l:libdeflate.a"],
      # libstdc++ linked in too (hidden by --exclude-libs): the prebuilt addon then loads into any
      # node on glibc 2.34+, not only where libstdc++ is as new as the compiler (GCC 12's 3.4.30).
      "ldflags": ["-pthread", "-static-libstdc++", "-Wl,--exclude-libs,ALL", "-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack"]
    },
    {
      # zstd built from its sources, vendored in native/third_party/zstd (Debian's libzstd.a is
      # not PIC; a pinned version keeps zstd layers the same bytes everywhere), with
      # ZSTD_MULTITHREAD for ZSTD_c_nbWorkers.
      "target_name": "nbuild_zstd",
      "type": "static_library",
      "variables": { "zstd_lib": "native/third_party/zstd/lib" },
      "sources": [
        "<(zstd_lib)/common/debug.c",
        "<(zstd_lib)/common/entropy_common.c",
        "<(zstd_lib)/common/error_private.c",
        "<(zstd_lib)/common/fse_decompress.c",
        "<(zstd_lib)/common/pool.c",
        "<(zstd_lib)/common/threading.c",
        "<(zstd_lib)/common/xxhash.c",
        "<(zstd_lib)/common/zstd_common.c",
        "<(zstd_lib)/compress/fse_compress.c",
        "<(zstd_lib)/compress/hist.c",
        "<(zstd_lib)/compress/huf_compress.c",
        "<(zstd_lib)/compress/zstd_compress.c",
        "<(zstd_lib)/compress/zstd_compress_literals.c",
        "<(zstd_lib)/compress/zstd_compress_sequences.c",
        "<(zstd_lib)/compress/zstd_compress_superblock.c",
        "<(zstd_lib)/compress/zstd_double_fast.c",
        "<(zstd_lib)/compress/zstd_fast.c",
        "<(zstd_lib)/compress/zstd_lazy.c",
        "<(zstd_lib)/compress/zstd_ldm.c",
        "<(zstd_lib)/compress/zstd_opt.c",
        "<(zstd_lib)/compress/zstd_preSplit.c",
        "<(zstd_lib)/compress/zstdmt_compress.c",
        "<(zstd_lib)/decompress/huf_decompress.c",
        "<(zstd_lib)/decompress/zstd_ddict.c",
        "<(zstd_lib)/decompress/zstd_decompress_block.c",
        "<(zstd_lib)/decompress/zstd_decompress.c"
      ],
      "defines": ["ZSTD_MULTITHREAD", "ZSTD_NO_TRACE", "XXH_NAMESPACE=NBZSTD_"],
      "cflags": ["-O3", "-fPIC", "-fvisibility=hidden"],
      # The Huffman decoder's x86-64 assembly only on x64; elsewhere zstd's portable C (its
      # SSE2/NEON paths are chosen by the compiler's target macros, with plain C otherwise).
      "conditions": [
        ["target_arch=='x64'",
          { "sources": ["<(zstd_lib)/decompress/huf_decompress_amd64.S"] },
          { "defines": ["ZSTD_DISABLE_ASM"] }]
      ],
      "direct_dependent_settings": { "include_dirs": ["<(zstd_lib)"] }
    },
    {
      "target_name": "nbuild-sandbox",
      "type": "executable",
      # Built on native/core's foundation: its error and fd types, overlay names, in-root opening.
      "sources": [
        "<!@(ls -1 native/sandbox/*.cc)",
        "native/core/error.cc",
        "native/core/merged_view.cc",
        "native/core/safe_path.cc",
        "native/compat/arc4random.cc"
      ],
      "include_dirs": ["native"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra"],
      # libstdc++ linked in: the helper runs whatever libstdc++ (or none) the host has. libgcc_s
      # stays shared: GCC 12's static unwinder would need glibc 2.35 (_dl_find_object).
      "ldflags": ["-static-libstdc++", "-Wl,-z,relro", "-Wl,-z,now"]
    }
  ]
}
