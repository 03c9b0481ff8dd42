"""MABe 2022 mouse triplets: official-file loader, synthetic test data, features, evaluator."""
