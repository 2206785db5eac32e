// focal_example: the public API as a consumer uses it (RetinaNet labels, a named kernel, and an
// error caught across the library boundary). Prints one line per result; exit 0 when all held.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <focal/focal.hpp>

int main() {
  // 2 anchors x 3 classes: anchor 0 is class 1, anchor 1 is background (label == C).
  const std::vector<float> logits = {-2.0f, 1.5f, -3.0f, 0.5f, -1.0f, -4.0f};
  const std::vector<std::int32_t> labels = {1, 3};
  std::vector<float> grad(logits.size());
  const focal::Options opt{.alpha = 0.25f, .gamma = 2.0f,
                           .reduction = focal::Reduction::normalizer, .normalizer = 1.0};
  const focal::Result r = focal::focal_loss(focal::LabelInput{logits, labels, 3}, opt, {.grad = grad});
  std::printf("labels: loss %.9g over %llu elements, kernel %.*s\n", r.value,
              static_cast<unsigned long long>(r.count), int(r.kernel->name.size()), r.kernel->name.data());

  // The same through the dense layout and an explicitly chosen kernel (the scalar reference).
  const std::vector<std::uint8_t> targets = {0, 1, 0, 0, 0, 0};
  const focal::Result d = focal::focal_loss(focal::find_kernel("scalar"),
                                            focal::DenseInput{logits, targets}, opt);
  std::printf("dense (scalar): loss %.9g\n", d.value);
  bool ok = r.count == 6 && std::isfinite(r.value) && r.value > 0 &&
            std::fabs(r.value - d.value) <= 1e-6 * d.value;

  // Bad input throws focal::invalid_argument, which a consumer can catch by type.
  try {
    focal::focal_loss(focal::LabelInput{logits, labels, 4});  // 6 logits are not 2 x 4
    std::printf("error: a bad num_classes was accepted\n");
    ok = false;
  } catch (const focal::invalid_argument& e) {
    std::printf("caught focal::invalid_argument: %s\n", e.what());
  }
  std::printf("%s\n", ok ? "example OK" : "example FAILED");
  return ok ? 0 : 1;
}
