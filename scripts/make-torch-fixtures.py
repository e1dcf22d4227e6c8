#!/usr/bin/env python3
"""
Reference fixtures for the PyTorch checkpoint importer (src/core/import, src/core/nn/imported; issue 7).

Defines tiny, randomly initialised networks of the two published layouts -- written here from the published
module structure, not copied -- saves their state dicts with torch.save, and records fixed inputs and the
reference outputs, so that the TypeScript ports can be checked without Python at test time:

  * DDPM `Model` of pesser/pytorch_diffusion (= ermongroup/ddim models/diffusion.py):
    temb.dense.{0,1}, conv_in, down[i].block[j] / attn[j] / downsample, mid.block_1/attn_1/block_2,
    up[i].block[j] / attn[j] / upsample, norm_out, conv_out; GroupNorm(32, eps 1e-6), swish.
  * improved-diffusion `UNetModel` (openai/improved-diffusion unet.py): time_embed.{0,2}, input_blocks,
    middle_block, output_blocks (TimestepEmbedSequential), ResBlock in_layers/emb_layers/out_layers,
    AttentionBlock norm/qkv(conv1d)/proj_out with num_heads, GroupNorm32 (eps 1e-5), learn_sigma.

Run with torch 1.13 (CPU):  /usr/bin/python3 scripts/make-torch-fixtures.py
Writes test/fixtures/torch/*.pt and *.json (the JSON holds the config, the raw network timestep inputs, and
x / output in NHWC order as float32 values).
"""
import json
import math
import os
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch')


# ---------------------------------------------------------------- DDPM layout (pesser/pytorch_diffusion model.py)

def ddpm_timestep_embedding(t, dim):
    # pytorch_diffusion get_timestep_embedding: f_i = exp(-i ln(10000) / (half - 1)), [sin, cos]
    half = dim // 2
    scale = math.log(10000) / (half - 1)
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * -scale)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def swish(x):
    return x * torch.sigmoid(x)


def ddpm_norm(c):
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


class DdpmResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb_ch, dropout):
        super().__init__()
        self.norm1 = ddpm_norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.temb_proj = nn.Linear(temb_ch, cout)
        self.norm2 = ddpm_norm(cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.cin, self.cout = cin, cout
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)

    def forward(self, x, temb):
        h = self.conv1(swish(self.norm1(x)))
        h = h + self.temb_proj(swish(temb))[:, :, None, None]
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        return (self.nin_shortcut(x) if self.cin != self.cout else x) + h


class DdpmAttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = ddpm_norm(c)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        h = self.norm(x)
        b, c, hh, ww = h.shape
        q = self.q(h).reshape(b, c, hh * ww).permute(0, 2, 1)
        k = self.k(h).reshape(b, c, hh * ww)
        v = self.v(h).reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q, k) * (c ** -0.5), dim=2)  # [b, query, key]
        o = torch.bmm(v, w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(o)


class DdpmDownsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # asymmetric zero pad, right and bottom only


class DdpmUpsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class DdpmModel(nn.Module):
    def __init__(self, ch, out_ch, ch_mult, num_res_blocks, attn_resolutions, dropout, in_channels, resolution):
        super().__init__()
        self.ch, self.nres, self.nblk = ch, len(ch_mult), num_res_blocks
        temb_ch = 4 * ch
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, temb_ch), nn.Linear(temb_ch, temb_ch)])
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        res = resolution
        in_mult = (1,) + tuple(ch_mult)
        self.down = nn.ModuleList()
        for i in range(self.nres):
            level = nn.Module()
            level.block, level.attn = nn.ModuleList(), nn.ModuleList()
            cin, cout = ch * in_mult[i], ch * ch_mult[i]
            for _ in range(num_res_blocks):
                level.block.append(DdpmResnetBlock(cin, cout, temb_ch, dropout))
                cin = cout
                if res in attn_resolutions:
                    level.attn.append(DdpmAttnBlock(cin))
            if i != self.nres - 1:
                level.downsample = DdpmDownsample(cin)
                res //= 2
            self.down.append(level)
        self.mid = nn.Module()
        self.mid.block_1 = DdpmResnetBlock(cin, cin, temb_ch, dropout)
        self.mid.attn_1 = DdpmAttnBlock(cin)
        self.mid.block_2 = DdpmResnetBlock(cin, cin, temb_ch, dropout)
        ups = []
        for i in reversed(range(self.nres)):
            level = nn.Module()
            level.block, level.attn = nn.ModuleList(), nn.ModuleList()
            cout = ch * ch_mult[i]
            for j in range(num_res_blocks + 1):
                skip = ch * (in_mult[i] if j == num_res_blocks else ch_mult[i])
                level.block.append(DdpmResnetBlock(cin + skip, cout, temb_ch, dropout))
                cin = cout
                if res in attn_resolutions:
                    level.attn.append(DdpmAttnBlock(cin))
            if i != 0:
                level.upsample = DdpmUpsample(cin)
                res *= 2
            ups.insert(0, level)
        self.up = nn.ModuleList(ups)
        self.norm_out = ddpm_norm(cin)
        self.conv_out = nn.Conv2d(cin, out_ch, 3, 1, 1)

    def forward(self, x, t):
        temb = self.temb.dense[1](swish(self.temb.dense[0](ddpm_timestep_embedding(t, self.ch))))
        hs = [self.conv_in(x)]
        for i in range(self.nres):
            for j in range(self.nblk):
                h = self.down[i].block[j](hs[-1], temb)
                if len(self.down[i].attn) > 0:
                    h = self.down[i].attn[j](h)
                hs.append(h)
            if i != self.nres - 1:
                hs.append(self.down[i].downsample(hs[-1]))
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(hs[-1], temb)), temb)
        for i in reversed(range(self.nres)):
            for j in range(self.nblk + 1):
                h = self.up[i].block[j](torch.cat([h, hs.pop()], dim=1), temb)
                if len(self.up[i].attn) > 0:
                    h = self.up[i].attn[j](h)
            if i != 0:
                h = self.up[i].upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


# ---------------------------------------------------------------- iDDPM layout (openai/improved-diffusion unet.py)

def iddpm_timestep_embedding(t, dim, max_period=10000):
    # improved-diffusion nn.timestep_embedding: f_i = exp(-ln(max_period) i / half), [cos, sin]
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class GroupNorm32(nn.GroupNorm):
    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


class SiLU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class TimestepBlock(nn.Module):
    pass


class TimestepSeq(nn.Sequential, TimestepBlock):
    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, TimestepBlock) else layer(x)
        return x


class IddpmResBlock(TimestepBlock):
    def __init__(self, cin, emb_ch, dropout, cout, scale_shift):
        super().__init__()
        self.scale_shift = scale_shift
        self.in_layers = nn.Sequential(GroupNorm32(32, cin), SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.emb_layers = nn.Sequential(SiLU(), nn.Linear(emb_ch, 2 * cout if scale_shift else cout))
        self.out_layers = nn.Sequential(GroupNorm32(32, cout), SiLU(), nn.Dropout(p=dropout), nn.Conv2d(cout, cout, 3, padding=1))
        self.skip_connection = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        e = self.emb_layers(emb)[:, :, None, None]
        if self.scale_shift:
            scale, shift = torch.chunk(e, 2, dim=1)
            h = self.out_layers[1:](self.out_layers[0](h) * (1 + scale) + shift)
        else:
            h = self.out_layers(h + e)
        return self.skip_connection(x) + h


class IddpmAttention(nn.Module):
    def __init__(self, c, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.norm = GroupNorm32(32, c)
        self.qkv = nn.Conv1d(c, 3 * c, 1)
        self.proj_out = nn.Conv1d(c, c, 1)

    def forward(self, x):
        b, c, *spatial = x.shape
        x = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(x)).reshape(b * self.num_heads, -1, x.shape[2])
        ch = qkv.shape[1] // 3
        q, k, v = torch.split(qkv, ch, dim=1)  # per head: q, k, v blocks of ch channels
        s = 1 / math.sqrt(math.sqrt(ch))
        w = torch.softmax(torch.einsum('bct,bcs->bts', q * s, k * s).float(), dim=-1)
        h = torch.einsum('bts,bcs->bct', w, v).reshape(b, -1, x.shape[2])
        return (x + self.proj_out(h)).reshape(b, c, *spatial)


class IddpmDownsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.op = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.op(x)


class IddpmUpsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode='nearest'))


class IddpmUNet(nn.Module):
    def __init__(self, in_channels, model_channels, out_channels, num_res_blocks, attention_ds, dropout,
                 channel_mult, num_heads, num_heads_upsample, use_scale_shift_norm):
        super().__init__()
        mc, ed = model_channels, 4 * model_channels
        self.mc = mc
        self.time_embed = nn.Sequential(nn.Linear(mc, ed), SiLU(), nn.Linear(ed, ed))
        self.input_blocks = nn.ModuleList([TimestepSeq(nn.Conv2d(in_channels, mc, 3, padding=1))])
        chans, ch, ds = [mc], mc, 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [IddpmResBlock(ch, ed, dropout, mult * mc, use_scale_shift_norm)]
                ch = mult * mc
                if ds in attention_ds:
                    layers.append(IddpmAttention(ch, num_heads))
                self.input_blocks.append(TimestepSeq(*layers))
                chans.append(ch)
            if level != len(channel_mult) - 1:
                self.input_blocks.append(TimestepSeq(IddpmDownsample(ch)))
                chans.append(ch)
                ds *= 2
        self.middle_block = TimestepSeq(IddpmResBlock(ch, ed, dropout, ch, use_scale_shift_norm), IddpmAttention(ch, num_heads),
                                        IddpmResBlock(ch, ed, dropout, ch, use_scale_shift_norm))
        self.output_blocks = nn.ModuleList()
        for level, mult in list(enumerate(channel_mult))[::-1]:
            for i in range(num_res_blocks + 1):
                layers = [IddpmResBlock(ch + chans.pop(), ed, dropout, mc * mult, use_scale_shift_norm)]
                ch = mc * mult
                if ds in attention_ds:
                    layers.append(IddpmAttention(ch, num_heads_upsample))
                if level and i == num_res_blocks:
                    layers.append(IddpmUpsample(ch))
                    ds //= 2
                self.output_blocks.append(TimestepSeq(*layers))
        self.out = nn.Sequential(GroupNorm32(32, ch), SiLU(), nn.Conv2d(mc, out_channels, 3, padding=1))

    def forward(self, x, t):
        emb = self.time_embed(iddpm_timestep_embedding(t, self.mc))
        hs, h = [], x
        for m in self.input_blocks:
            h = m(h, emb)
            hs.append(h)
        h = self.middle_block(h, emb)
        for m in self.output_blocks:
            h = m(torch.cat([h, hs.pop()], dim=1), emb)
        return self.out(h)


# ---------------------------------------------------------------- fixtures

def randomise(model, seed):
    """Non-trivial weights everywhere (the published inits zero some convs, which would hide mapping bugs)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            for name, p in mod.named_parameters(recurse=False):
                if isinstance(mod, nn.GroupNorm):
                    p.copy_((1.0 if name == 'weight' else 0.0) + 0.2 * torch.randn(p.shape, generator=g))
                elif p.dim() > 1:
                    p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p[0].numel()))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=g))
    return model.eval()


def floats(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def write_case(name, model, config, t_net, seed, batch=2, size=16, in_ch=3, half=False):
    sd = model.state_dict()
    if half:
        sd = OrderedDict((k, v.half()) for k, v in sd.items())
        model.load_state_dict(OrderedDict((k, v.float()) for k, v in sd.items()))  # reference uses the rounded weights
    torch.save(sd, os.path.join(OUT, f'{name}.pt'))
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, in_ch, size, size, generator=g)
    with torch.no_grad():
        y = model(x, torch.tensor(t_net, dtype=torch.float32))
    case = {
        'config': config, 'tNet': t_net, 'dtype': 'float16' if half else 'float32',
        'x': {'shape': [batch, size, size, in_ch], 'data': floats(x.permute(0, 2, 3, 1))},
        'out': {'shape': list(y.permute(0, 2, 3, 1).shape), 'data': floats(y.permute(0, 2, 3, 1))},
        'params': sum(p.numel() for p in model.parameters()),
    }
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump(case, f)
    print(f'{name}: {case["params"]} parameters, output {case["out"]["shape"]}, {os.path.getsize(os.path.join(OUT, name + ".pt"))} bytes')


def ddpm_case(name, seed, ch_mult, half=False):
    torch.manual_seed(seed)
    cfg = dict(ch=32, outCh=3, chMult=ch_mult, numResBlocks=1, attnResolutions=[8], dropout=0.1, inChannels=3, resolution=16)
    m = randomise(DdpmModel(cfg['ch'], cfg['outCh'], tuple(cfg['chMult']), cfg['numResBlocks'], tuple(cfg['attnResolutions']),
                            cfg['dropout'], cfg['inChannels'], cfg['resolution']), seed)
    # raw network inputs: 0 and 999 are the ends of the 'n-1' convention (n = 1 and n = 1000)
    write_case(name, m, cfg, [0.0, 999.0], seed, half=half)


def iddpm_case(name, seed, ch_mult, scale_shift, heads, out_ch, attn_res, t_net, half=False):
    torch.manual_seed(seed)
    cfg = dict(inChannels=3, modelChannels=32, outChannels=out_ch, numResBlocks=1, attentionResolutions=attn_res, dropout=0.3,
               channelMult=ch_mult, numHeads=heads, numHeadsUpsample=-1, useScaleShiftNorm=scale_shift, imageSize=16)
    ds = tuple(16 // r for r in attn_res)
    m = randomise(IddpmUNet(3, 32, out_ch, 1, ds, 0.3, tuple(ch_mult), heads, heads, scale_shift), seed)
    write_case(name, m, cfg, t_net, seed, half=half)


def strided_case():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3
    sd = OrderedDict()
    sd['transposed'] = base.t()                      # stride (1, 6)
    sd['sliced'] = base[1:3, 2:5]                    # storage offset 8, stride (6, 1)
    sd['stepped'] = base[:, ::2]                     # stride (6, 2)
    sd['expanded'] = torch.tensor([1.5, -2.0]).reshape(2, 1).expand(2, 3)  # stride (1, 0)
    sd['half_t'] = base.half().t()                   # float16, transposed
    sd['scalar'] = torch.tensor(3.25)                # 0-d
    sd['shared_view'] = base[2]                      # shares the storage of 'transposed' (offset 12)
    torch.save(sd, os.path.join(OUT, 'strided.pt'))
    torch.save(sd, os.path.join(OUT, 'strided_legacy.pt'), _use_new_zipfile_serialization=False)  # pre-1.6 format
    expect = {k: {'shape': list(v.shape), 'data': floats(v.float())} for k, v in sd.items()}
    with open(os.path.join(OUT, 'strided.json'), 'w') as f:
        json.dump(expect, f)


def wrapped_case():
    # A training checkpoint: {'it', 'ema_models_states': {'eps_model': sd with DataParallel 'module.' keys}, ...}
    sd = OrderedDict([('module.w', torch.ones(2, 2)), ('module.b', torch.zeros(2))])
    ema = OrderedDict([('module.w', torch.full((2, 2), 0.5)), ('module.b', torch.full((2,), 0.25))])
    ckpt = {'it': 400000, 'lr': 1e-4, 'betas': (0.9, 0.999), 'flag': True, 'none': None,
            'models_states': {'eps_model': sd}, 'ema_models_states': {'eps_model': ema}}
    torch.save(ckpt, os.path.join(OUT, 'wrapped.pt'))
    # DDIM's ckpt.pth layout: a list [model, optimizer, epoch, step, ema]
    torch.save([sd, {'state': {}, 'param_groups': [{'lr': 2e-4, 'params': [0, 1]}]}, 10, 5000, ema], os.path.join(OUT, 'list.pt'))


def unsupported_cases():
    torch.save(OrderedDict([('w', torch.zeros(3, dtype=torch.int32))]), os.path.join(OUT, 'int32.pt'))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    # The main fixtures (float32) need two levels with different widths to exercise the channel bookkeeping; with
    # GroupNorm(32) that is >= 0.7M parameters (~3 MB). The variants use one width and float16 to stay small.
    ddpm_case('ddpm_tiny', 1, [1, 2])
    ddpm_case('ddpm_tiny_f16', 2, [1, 1], half=True)
    # scale-shift norm, 2 heads, learned sigma (6 outputs), attention at 8x8, fractional (rescaled) timesteps
    iddpm_case('iddpm_tiny', 3, [1, 2], True, 2, 6, [8], [3.0, 249.75])
    # plain norm, 1 head, 3 outputs, attention at 16x16 and 8x8
    iddpm_case('iddpm_tiny_plain_f16', 4, [1, 1], False, 1, 3, [16, 8], [1.0, 1000.0], half=True)
    strided_case()
    wrapped_case()
    unsupported_cases()
