"""Schema-constrained decoding: at every step only what the row grammar allows.

The grammar: after <bos>, a column name (each column exactly once; in the table's order for a
model trained in that order), then that column's value
(one of its observed values, or a sign and digits that can still end inside the observed
range), and <eos> only when every column is written. be_great samples freely and throws away
what fails to parse; here an invalid row cannot be produced. The masks are tensors built once
per codec; each step updates a small per-row state and gathers the allowed set, so the cost
per step does not grow with a Python loop over the batch.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

from synthscale.samplers.llm.serialize import RowCodec

EXPECT_NAME = -1  # state.field when the next token is a column name (or <eos>)


class SchemaConstraint(LogitsProcessor):
    """Masks logits to the tokens the row grammar allows next, for every row of the batch.

    `token_ids` maps each codec token to the model's vocabulary (the identity for the tiny
    model; added tokens for a pretrained one). One instance serves one `generate` call.
    """

    def __init__(
        self, codec: RowCodec, token_ids: torch.Tensor, vocab_size: int, ordered: bool = False
    ) -> None:
        self.codec = codec
        self.ordered = ordered  # columns in the table's order only (a model trained so)
        device = token_ids.device
        n_fields = len(codec.fields)
        self.token_ids = token_ids
        self.vocab_size = vocab_size
        to_codec = torch.full((vocab_size,), -1, dtype=torch.long, device=device)
        to_codec[token_ids] = torch.arange(len(token_ids), device=device)
        self.to_codec = to_codec  # model id -> codec id (-1: not a row token)
        self.name_ids = token_ids[torch.tensor(codec.name_ids, device=device)]
        field_of_name = torch.full((codec.vocab_size,), -1, dtype=torch.long, device=device)
        field_of_name[torch.tensor(codec.name_ids, device=device)] = torch.arange(n_fields, device=device)
        self.field_of_name = field_of_name
        value_mask = torch.zeros((n_fields, vocab_size), dtype=torch.bool, device=device)
        for i, ids in enumerate(codec.value_ids):
            if ids:
                value_mask[i, token_ids[torch.tensor(ids, device=device)]] = True
        self.value_mask = value_mask
        fields = codec.fields
        self.enumerated = torch.tensor([f.enumerated for f in fields], device=device)
        self.signed = torch.tensor([f.signed for f in fields], device=device)
        self.width = torch.tensor([f.width for f in fields], device=device)
        self.low = torch.tensor([f.low for f in fields], dtype=torch.long, device=device)
        self.high = torch.tensor([f.high for f in fields], dtype=torch.long, device=device)
        self.digit_ids = token_ids[torch.tensor(codec.digit_ids, device=device)]
        self.plus_id = int(token_ids[codec.plus_id])
        self.minus_id = int(token_ids[codec.minus_id])
        self.eos_id = int(token_ids[codec.eos_id])
        self.pad_id = int(token_ids[codec.pad_id])
        self._seen = 0  # tokens of input_ids already folded into the state

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self._seen == 0:
            self._start(input_ids.shape[0], input_ids.device)
            self._seen = 1  # the <bos>
        for position in range(self._seen, input_ids.shape[1]):
            self._advance(input_ids[:, position])
        self._seen = input_ids.shape[1]
        return scores.masked_fill(~self.allowed(), float("-inf"))

    def _start(self, batch: int, device: torch.device) -> None:
        n_fields = len(self.codec.fields)
        self.used = torch.zeros((batch, n_fields), dtype=torch.bool, device=device)
        self.field = torch.full((batch,), EXPECT_NAME, dtype=torch.long, device=device)
        self.position = torch.zeros(batch, dtype=torch.long, device=device)  # tokens of the value so far
        self.negative = torch.zeros(batch, dtype=torch.bool, device=device)
        self.magnitude = torch.zeros(batch, dtype=torch.long, device=device)  # digits so far, as a number
        self.done = torch.zeros(batch, dtype=torch.bool, device=device)

    def _advance(self, tokens: torch.Tensor) -> None:
        """Fold one emitted token per row into the state."""
        active = ~self.done
        codec_token = self.to_codec[tokens]
        expecting = active & (self.field == EXPECT_NAME)
        ended = expecting & (tokens == self.eos_id)
        self.done = self.done | ended
        named = self.field_of_name[codec_token.clamp(min=0)]
        starts = expecting & ~ended & (codec_token >= 0) & (named >= 0)
        rows = torch.nonzero(starts).squeeze(1)
        self.used[rows, named[rows]] = True
        in_value = active & (self.field != EXPECT_NAME)
        field = self.field.clamp(min=0)
        enumerated = self.enumerated[field]
        signed_start = in_value & ~enumerated & self.signed[field] & (self.position == 0)
        self.negative = torch.where(signed_start, tokens == self.minus_id, self.negative)
        digit = (codec_token - self.codec.digit_ids[0]).clamp(0, 9)
        is_digit = in_value & ~enumerated & ~signed_start
        self.magnitude = torch.where(is_digit, self.magnitude * 10 + digit, self.magnitude)
        self.position = torch.where(in_value, self.position + 1, self.position)
        length = torch.where(enumerated, 1, self.width[field] + self.signed[field].long())
        finished = in_value & (self.position >= length)
        self.field = torch.where(starts, named, self.field)
        self.field = torch.where(finished, EXPECT_NAME, self.field)
        reset = starts | finished
        self.position = torch.where(reset, 0, self.position)
        self.magnitude = torch.where(reset, 0, self.magnitude)
        self.negative = torch.where(reset, False, self.negative)

    def allowed(self) -> torch.Tensor:
        """[batch, vocab] bool: the tokens each row may emit next."""
        batch = self.field.shape[0]
        allowed = torch.zeros((batch, self.vocab_size), dtype=torch.bool, device=self.field.device)
        expecting = ~self.done & (self.field == EXPECT_NAME)
        unused = expecting[:, None] & ~self.used
        if self.ordered:  # the first unwritten column only
            unused &= torch.cumsum(~self.used, dim=1) == 1
        allowed[:, self.name_ids] = unused
        complete = expecting & self.used.all(dim=1)
        allowed[:, self.eos_id] = complete | self.done
        allowed[:, self.pad_id] |= self.done
        field = self.field.clamp(min=0)
        in_value = ~self.done & (self.field != EXPECT_NAME)
        enumerated = in_value & self.enumerated[field]
        allowed |= enumerated[:, None] & self.value_mask[field]
        numeric = in_value & ~self.enumerated[field]
        low, high = self.low[field], self.high[field]
        sign_step = numeric & self.signed[field] & (self.position == 0)
        allowed[:, self.plus_id] |= sign_step & (high >= 0)
        allowed[:, self.minus_id] |= sign_step & (low <= 0)
        digit_step = numeric & ~sign_step
        allowed[:, self.digit_ids] |= digit_step[:, None] & self._digits_in_range(field, low, high)
        return allowed

    def _digits_in_range(self, field: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        """[batch, 10]: digit d is allowed when some completion of the number stays in range."""
        digits_done = self.position - self.signed[field].long()
        remaining = (self.width[field] - digits_done - 1).clamp(min=0)
        span = torch.pow(torch.full_like(remaining, 10), remaining)[:, None]
        prefix = self.magnitude[:, None] * 10 + torch.arange(10, device=field.device)[None, :]
        smallest, largest = prefix * span, prefix * span + span - 1
        negative = self.negative[:, None]
        lowest = torch.where(negative, -largest, smallest)
        highest = torch.where(negative, -smallest, largest)
        return (lowest <= high[:, None]) & (highest >= low[:, None])
