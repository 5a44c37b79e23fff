"""What several benchmarks share."""

# The fits, not LLM training: the quickstart's classic and reference samplers (the 568-fit grid
# the sweep-overhead target of issue #3 was set on).
CLASSIC_METHODS = "methods=[raw,ros,smote,adasyn,independent,gaussian_copula,ros_aug,smote_aug,adasyn_aug]"
