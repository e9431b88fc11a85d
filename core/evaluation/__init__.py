"""Evaluating conversations: code extraction (`extract`), the bandit static stage
(`static`, and `static_pass` for one live pass in its own process), the queue, labels and
verdicts (`pipeline`), label aggregation (`aggregate`), agreement statistics
(`agreement`) and the bootstrap intervals every score uses (`intervals`)."""
