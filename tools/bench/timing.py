"""Median wall times of several contenders measured in turns, so machine noise hits them alike."""
import random
import statistics
import time


def median_seconds(contenders, warmup=3, repeats=15, seed=0):
    """Return {name: median seconds} for {name: zero-argument callable}.

    Every round runs each contender once: a slow spell of a shared machine then
    slows all of them, and their ratios stay meaningful. The order within a round
    is shuffled (reproducibly), because running right after another contender is
    measurably cheaper or dearer (the allocator reuses or returns its memory).
    """
    order, shuffle = list(contenders), random.Random(seed).shuffle
    for _ in range(warmup):
        for run in contenders.values():
            run()
    samples = {name: [] for name in contenders}
    for _ in range(repeats):
        shuffle(order)
        for name in order:
            start = time.perf_counter()
            contenders[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}
