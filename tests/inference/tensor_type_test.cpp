#include "strongbox/inference/tensor_type.h"

#include <doctest/doctest.h>

using namespace strongbox::inference;

TEST_CASE("tensor type block sizes match the GGUF layouts") {
    CHECK(row_size(TensorType::kQ4_0, 64) == 36u);
    CHECK(row_size(TensorType::kQ8_0, 32) == 34u);
    CHECK(row_size(TensorType::kQ4_K, 256) == 144u);
    CHECK(row_size(TensorType::kQ6_K, 256) == 210u);
    CHECK(row_size(TensorType::kQ5_K, 256) == 176u);
    CHECK(row_size(TensorType::kQ2_K, 256) == 84u);
    CHECK(row_size(TensorType::kQ3_K, 256) == 110u);
    CHECK_FALSE(row_size(TensorType::kQ4_0, 172).has_value());
}

TEST_CASE("tensor type names parse case-insensitively and unknown ids are named by number") {
    CHECK(parse_tensor_type("Q4_K") == TensorType::kQ4_K);
    CHECK(parse_tensor_type("f16") == TensorType::kF16);
    CHECK_FALSE(parse_tensor_type("q9_9").has_value());
    CHECK(tensor_type_name(17) == "type 17");
}
