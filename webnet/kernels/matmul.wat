;; webnet_matmul: float32 matrix product C = A @ B for webnet inside Pyodide (WebAssembly SIMD).
;;
;; Why: Pyodide's numpy has no BLAS, so float32 `@` runs numpy's plain triple loop at about
;; 2.5 GFLOP/s. This kernel does the same arithmetic in the same order with 128-bit SIMD and
;; register tiles, about ten times faster, reading and writing numpy's buffers in place.
;;
;; How it is loaded: tools/wasm/assemble.js turns this text into a binary with wabt (SIMD on) and
;; puts an empty `dylink.0` custom section in front, which makes it a "side module" that Pyodide's
;; dynamic linker accepts: `ctypes.CDLL("webnet_matmul.so")` in Python (webnet/accel.py). The linker
;; resolves the one import, env.memory, to Pyodide's own linear memory, so the addresses numpy gives
;; (`arr.ctypes.data`) are addresses here. The module has no data, no table and no globals.
;;
;; Arguments (all i32 unless said; pointers are byte addresses, strides count float32 elements):
;;   M, K, N           C is M x N, A is M x K, B is K x N; any of them may be 0
;;   A, a_rs, a_cs     A[i, k] is at A + 4 * (i * a_rs + k * a_cs): any strides, so x.T and
;;                     sliced views need no copy (negative strides wrap correctly in i32)
;;   B, b_rs           B[k, j] is at B + 4 * (k * b_rs + j): each row contiguous
;;   C, c_rs           C[i, j] is at C + 4 * (i * c_rs + j): each row contiguous; must not overlap
;;                     A or B (the caller checks)
;;   alpha (f32), accumulate
;;                     accumulate == 0: C = alpha * (A @ B)
;;                     accumulate != 0: C = C + alpha * (A @ B)   (alpha = -1: C -= A @ B)
;;
;; Bitwise equal to numpy: numpy's BLAS-free float32 matmul computes every C[i, j] as
;;     s = 0.0f;  for k in 0 .. K-1:  s = s + A[i, k] * B[k, j]      (rounded after * and after +)
;; Every accumulator below does exactly that: it starts at +0 (wasm zero-initialises locals; the
;; +0 start matters: 0 + -0 is +0) and adds the rounded products in k order with separate
;; f32x4.mul and f32x4.add (no fused multiply-add, no reordering). SIMD lanes hold different
;; (i, j) entries, never different k. So results equal numpy's bit for bit, NaN payloads aside.
;; alpha is applied to the finished sum (1 * s == s exactly), then C is added: the same as numpy's
;; `C += np.float32(alpha) * (A @ B)`.
;;
;; Blocking: C is walked in column panels. For each panel of 8 columns of B (K rows x 32 bytes,
;; 25 KB for K = 784, which stays in the L1 cache) every group of 4 rows of A makes a 4 x 8 tile of
;; C in 8 v128 accumulators. Per k, the tile loads two v128 of B's row and broadcasts
;; (load32_splat) each of the 4 entries of A's column: 6 loads for 16 multiply-adds of 4 lanes.
;; 4 x 8 measured best: larger tiles (4x12, 6x8, 8x8) spill V8's 16 SIMD registers.
;; Edges: rows left over below the last group of 4 get 1 x 8 tiles; columns left over after the
;; last panel of 8 get one panel of 4 (4 x 4 and 1 x 4 tiles) if 4 or more remain, then the last
;; 0-3 columns are done one entry at a time with scalar f32 (1 x 1). So any M, K, N is handled.

(module
  (import "env" "memory" (memory 0))

  ;; Write one 4-lane result v to C at p: C = alpha * v, or C = C + alpha * v.
  (func $store4 (param $p i32) (param $v v128) (param $alpha f32) (param $accumulate i32)
    (local.set $v (f32x4.mul (local.get $v) (f32x4.splat (local.get $alpha))))
    (if (local.get $accumulate)
      (then (local.set $v (f32x4.add (v128.load align=4 (local.get $p)) (local.get $v)))))
    (v128.store align=4 (local.get $p) (local.get $v)))

  ;; The same for one scalar result.
  (func $store1 (param $p i32) (param $s f32) (param $alpha f32) (param $accumulate i32)
    (local.set $s (f32.mul (local.get $s) (local.get $alpha)))
    (if (local.get $accumulate)
      (then (local.set $s (f32.add (f32.load (local.get $p)) (local.get $s)))))
    (f32.store (local.get $p) (local.get $s)))

  ;; 4 x 8 tile: rows at pa, pa + a_rs, pa + 2 a_rs, pa + 3 a_rs of A (byte strides from here on),
  ;; 8 columns of B starting at pb, result to C at pc. $cRC holds row R, columns 4C .. 4C+3.
  (func $tile_4x8 (param $pa i32) (param $a_rs i32) (param $a_cs i32)
                  (param $pb i32) (param $b_rs i32) (param $pc i32) (param $c_rs i32)
                  (param $k i32) (param $alpha f32) (param $accumulate i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $a v128) (local $rs2 i32) (local $rs3 i32)
    (local.set $rs2 (i32.add (local.get $a_rs) (local.get $a_rs)))
    (local.set $rs3 (i32.add (local.get $rs2) (local.get $a_rs)))
    (if (local.get $k)
      (then
        (loop $next_k
          (local.set $b0 (v128.load align=4 (local.get $pb)))              ;; B[k, j .. j+3]
          (local.set $b1 (v128.load offset=16 align=4 (local.get $pb)))    ;; B[k, j+4 .. j+7]
          (local.set $a (v128.load32_splat (local.get $pa)))               ;; A[i, k] x 4
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load32_splat (i32.add (local.get $pa) (local.get $a_rs))))   ;; A[i+1, k]
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load32_splat (i32.add (local.get $pa) (local.get $rs2))))    ;; A[i+2, k]
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load32_splat (i32.add (local.get $pa) (local.get $rs3))))    ;; A[i+3, k]
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
          (local.set $pa (i32.add (local.get $pa) (local.get $a_cs)))      ;; next k: A's next column
          (local.set $pb (i32.add (local.get $pb) (local.get $b_rs)))      ;;         B's next row
          (br_if $next_k (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (call $store4 (local.get $pc) (local.get $c00) (local.get $alpha) (local.get $accumulate))
    (call $store4 (i32.add (local.get $pc) (i32.const 16)) (local.get $c01) (local.get $alpha) (local.get $accumulate))
    (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
    (call $store4 (local.get $pc) (local.get $c10) (local.get $alpha) (local.get $accumulate))
    (call $store4 (i32.add (local.get $pc) (i32.const 16)) (local.get $c11) (local.get $alpha) (local.get $accumulate))
    (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
    (call $store4 (local.get $pc) (local.get $c20) (local.get $alpha) (local.get $accumulate))
    (call $store4 (i32.add (local.get $pc) (i32.const 16)) (local.get $c21) (local.get $alpha) (local.get $accumulate))
    (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
    (call $store4 (local.get $pc) (local.get $c30) (local.get $alpha) (local.get $accumulate))
    (call $store4 (i32.add (local.get $pc) (i32.const 16)) (local.get $c31) (local.get $alpha) (local.get $accumulate)))

  ;; 1 x 8 tile: one leftover row of A against a panel of 8 columns.
  (func $tile_1x8 (param $pa i32) (param $a_cs i32) (param $pb i32) (param $b_rs i32) (param $pc i32)
                  (param $k i32) (param $alpha f32) (param $accumulate i32)
    (local $c0 v128) (local $c1 v128) (local $a v128)
    (if (local.get $k)
      (then
        (loop $next_k
          (local.set $a (v128.load32_splat (local.get $pa)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a) (v128.load align=4 (local.get $pb)))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a) (v128.load offset=16 align=4 (local.get $pb)))))
          (local.set $pa (i32.add (local.get $pa) (local.get $a_cs)))
          (local.set $pb (i32.add (local.get $pb) (local.get $b_rs)))
          (br_if $next_k (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (call $store4 (local.get $pc) (local.get $c0) (local.get $alpha) (local.get $accumulate))
    (call $store4 (i32.add (local.get $pc) (i32.const 16)) (local.get $c1) (local.get $alpha) (local.get $accumulate)))

  ;; 4 x 4 tile: 4 rows against the panel of 4 columns that may follow the 8-column panels.
  (func $tile_4x4 (param $pa i32) (param $a_rs i32) (param $a_cs i32)
                  (param $pb i32) (param $b_rs i32) (param $pc i32) (param $c_rs i32)
                  (param $k i32) (param $alpha f32) (param $accumulate i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $b v128)
    (local $rs2 i32) (local $rs3 i32)
    (local.set $rs2 (i32.add (local.get $a_rs) (local.get $a_rs)))
    (local.set $rs3 (i32.add (local.get $rs2) (local.get $a_rs)))
    (if (local.get $k)
      (then
        (loop $next_k
          (local.set $b (v128.load align=4 (local.get $pb)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $pa)) (local.get $b))))
          (local.set $c1 (f32x4.add (local.get $c1)
            (f32x4.mul (v128.load32_splat (i32.add (local.get $pa) (local.get $a_rs))) (local.get $b))))
          (local.set $c2 (f32x4.add (local.get $c2)
            (f32x4.mul (v128.load32_splat (i32.add (local.get $pa) (local.get $rs2))) (local.get $b))))
          (local.set $c3 (f32x4.add (local.get $c3)
            (f32x4.mul (v128.load32_splat (i32.add (local.get $pa) (local.get $rs3))) (local.get $b))))
          (local.set $pa (i32.add (local.get $pa) (local.get $a_cs)))
          (local.set $pb (i32.add (local.get $pb) (local.get $b_rs)))
          (br_if $next_k (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (call $store4 (local.get $pc) (local.get $c0) (local.get $alpha) (local.get $accumulate))
    (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
    (call $store4 (local.get $pc) (local.get $c1) (local.get $alpha) (local.get $accumulate))
    (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
    (call $store4 (local.get $pc) (local.get $c2) (local.get $alpha) (local.get $accumulate))
    (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
    (call $store4 (local.get $pc) (local.get $c3) (local.get $alpha) (local.get $accumulate)))

  ;; 1 x 4 tile.
  (func $tile_1x4 (param $pa i32) (param $a_cs i32) (param $pb i32) (param $b_rs i32) (param $pc i32)
                  (param $k i32) (param $alpha f32) (param $accumulate i32)
    (local $c v128)
    (if (local.get $k)
      (then
        (loop $next_k
          (local.set $c (f32x4.add (local.get $c)
            (f32x4.mul (v128.load32_splat (local.get $pa)) (v128.load align=4 (local.get $pb)))))
          (local.set $pa (i32.add (local.get $pa) (local.get $a_cs)))
          (local.set $pb (i32.add (local.get $pb) (local.get $b_rs)))
          (br_if $next_k (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (call $store4 (local.get $pc) (local.get $c) (local.get $alpha) (local.get $accumulate)))

  ;; 1 x 1: one entry of C, scalar, for the last 0-3 columns.
  (func $tile_1x1 (param $pa i32) (param $a_cs i32) (param $pb i32) (param $b_rs i32) (param $pc i32)
                  (param $k i32) (param $alpha f32) (param $accumulate i32)
    (local $s f32)
    (if (local.get $k)
      (then
        (loop $next_k
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
          (local.set $pa (i32.add (local.get $pa) (local.get $a_cs)))
          (local.set $pb (i32.add (local.get $pb) (local.get $b_rs)))
          (br_if $next_k (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (call $store1 (local.get $pc) (local.get $s) (local.get $alpha) (local.get $accumulate)))

  ;; The entry point: walks C in panels of 8, then 4, then 1 columns; within a panel, rows in
  ;; groups of 4, then one at a time. $pb points at column j of B, $pa / $pc at row i of A / C.
  (func (export "webnet_matmul")
        (param $M i32) (param $K i32) (param $N i32)
        (param $A i32) (param $a_rs i32) (param $a_cs i32)
        (param $B i32) (param $b_rs i32)
        (param $C i32) (param $c_rs i32)
        (param $alpha f32) (param $accumulate i32)
    (local $i i32) (local $j i32) (local $pa i32) (local $pb i32) (local $pc i32)
    ;; element strides -> byte strides
    (local.set $a_rs (i32.shl (local.get $a_rs) (i32.const 2)))
    (local.set $a_cs (i32.shl (local.get $a_cs) (i32.const 2)))
    (local.set $b_rs (i32.shl (local.get $b_rs) (i32.const 2)))
    (local.set $c_rs (i32.shl (local.get $c_rs) (i32.const 2)))

    ;; panels of 8 columns: j = 0, 8, ... while j + 8 <= N
    (block $panels_done
      (loop $next_panel
        (br_if $panels_done (i32.gt_s (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
        (local.set $pb (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $pa (local.get $A))
        (local.set $pc (i32.add (local.get $C) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $quads_done                                           ;; rows i .. i+3
          (loop $next_quad
            (br_if $quads_done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $M)))
            (call $tile_4x8 (local.get $pa) (local.get $a_rs) (local.get $a_cs) (local.get $pb) (local.get $b_rs)
                            (local.get $pc) (local.get $c_rs) (local.get $K) (local.get $alpha) (local.get $accumulate))
            (local.set $pa (i32.add (local.get $pa) (i32.shl (local.get $a_rs) (i32.const 2))))
            (local.set $pc (i32.add (local.get $pc) (i32.shl (local.get $c_rs) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $next_quad)))
        (block $rows_done                                            ;; leftover rows, one by one
          (loop $next_row
            (br_if $rows_done (i32.ge_s (local.get $i) (local.get $M)))
            (call $tile_1x8 (local.get $pa) (local.get $a_cs) (local.get $pb) (local.get $b_rs) (local.get $pc)
                            (local.get $K) (local.get $alpha) (local.get $accumulate))
            (local.set $pa (i32.add (local.get $pa) (local.get $a_rs)))
            (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next_row)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $next_panel)))

    ;; one panel of 4 columns if 4 to 7 columns are left
    (if (i32.le_s (i32.add (local.get $j) (i32.const 4)) (local.get $N))
      (then
        (local.set $pb (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $pa (local.get $A))
        (local.set $pc (i32.add (local.get $C) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $quads_done
          (loop $next_quad
            (br_if $quads_done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $M)))
            (call $tile_4x4 (local.get $pa) (local.get $a_rs) (local.get $a_cs) (local.get $pb) (local.get $b_rs)
                            (local.get $pc) (local.get $c_rs) (local.get $K) (local.get $alpha) (local.get $accumulate))
            (local.set $pa (i32.add (local.get $pa) (i32.shl (local.get $a_rs) (i32.const 2))))
            (local.set $pc (i32.add (local.get $pc) (i32.shl (local.get $c_rs) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $next_quad)))
        (block $rows_done
          (loop $next_row
            (br_if $rows_done (i32.ge_s (local.get $i) (local.get $M)))
            (call $tile_1x4 (local.get $pa) (local.get $a_cs) (local.get $pb) (local.get $b_rs) (local.get $pc)
                            (local.get $K) (local.get $alpha) (local.get $accumulate))
            (local.set $pa (i32.add (local.get $pa) (local.get $a_rs)))
            (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next_row)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))))

    ;; the last 0-3 columns, one entry at a time
    (block $columns_done
      (loop $next_column
        (br_if $columns_done (i32.ge_s (local.get $j) (local.get $N)))
        (local.set $pb (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $pa (local.get $A))
        (local.set $pc (i32.add (local.get $C) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $rows_done
          (loop $next_row
            (br_if $rows_done (i32.ge_s (local.get $i) (local.get $M)))
            (call $tile_1x1 (local.get $pa) (local.get $a_cs) (local.get $pb) (local.get $b_rs) (local.get $pc)
                            (local.get $K) (local.get $alpha) (local.get $accumulate))
            (local.set $pa (i32.add (local.get $pa) (local.get $a_rs)))
            (local.set $pc (i32.add (local.get $pc) (local.get $c_rs)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next_row)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next_column))))
)
