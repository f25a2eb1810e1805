"""``xephang sounds``: fill the clip cache, show its state, try an announcement."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from .announce import DEFAULT_TEMPLATE, vocabulary
from .build import build_voice
from .cache import ENV_VAR, SoundCache, default_sounds_dir
from .clips import clip_id
from .compose import announcement_ready
from .status import sound_status
from .vietnamese import ReadingOptions
from .voice_options import DEFAULT_THOUSAND, DEFAULT_ZERO_HUNDRED, THOUSANDS, ZERO_HUNDREDS
from .voices import voice_from_spec
from .voices.pack import pack_file_name

DEFAULT_VOICES = ("gtts", "espeak")

dir_option = click.option(
    "--dir",
    "sounds_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Thư mục âm thanh (mặc định: ${ENV_VAR}, hoặc instance/sounds).",
)
template_option = click.option(
    "--template",
    "templates",
    multiple=True,
    help="Mẫu câu thông báo (lặp lại được); mặc định: " + DEFAULT_TEMPLATE,
)


def _cache(sounds_dir: Path | None) -> SoundCache:
    if sounds_dir is None:
        # Here, not at the top: Flask only finds the app's instance folder; the sound
        # library itself does not need it.
        from flask import Flask

        # The same instance folder as the app factory's Flask("server", ...).
        instance = Flask("server", instance_relative_config=True).instance_path
        sounds_dir = default_sounds_dir(instance)
    return SoundCache(sounds_dir)


@click.group(help="Giọng đọc: số thành lời, bộ đệm đoạn âm thanh, chuông.")
def sounds() -> None:
    pass


@sounds.command(help="Tạo trước các đoạn âm thanh cho giọng đọc (gtts, espeak, pack:THƯ_MỤC).")
@click.option(
    "--voice",
    "voices",
    multiple=True,
    help="gtts | espeak | pack:THƯ_MỤC (lặp lại được; mặc định: gtts rồi espeak).",
)
@dir_option
@template_option
@click.option("--force", is_flag=True, help="Tạo lại cả những đoạn đã có.")
def build(
    voices: tuple[str, ...], sounds_dir: Path | None, templates: tuple[str, ...], force: bool
) -> None:
    cache = _cache(sounds_dir)
    keys = vocabulary(templates or (DEFAULT_TEMPLATE,))
    logging.getLogger("sounds.build").setLevel(logging.ERROR)  # the report below says it all
    failed = False
    for spec in voices or DEFAULT_VOICES:
        try:
            voice = voice_from_spec(spec)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--voice") from err
        with click.progressbar(
            length=len(keys),
            label=f"Giọng {voice.name}",
            item_show_func=lambda key: key or "",
        ) as bar:
            try:
                report = build_voice(
                    cache, voice, keys, force=force, on_clip=lambda key: bar.update(1, key)
                )
            except FileNotFoundError as err:
                raise click.ClickException(str(err)) from err
        click.echo(
            f"Giọng {voice.name}: tạo mới {len(report.made)}, có sẵn {len(report.kept)}, "
            f"thiếu {len(report.missing)} — {cache.root / voice.name}"
        )
        for key, reason in report.missing.items():
            hint = f" (tệp: {pack_file_name(key)})" if voice.name == "pack" else ""
            click.echo(f"  thiếu: {key}{hint} — {reason}")
        failed |= not (report.made or report.kept)
    if failed:
        sys.exit(1)


@sounds.command(help="Tình trạng bộ đệm âm thanh và giọng đang dùng.")
@dir_option
@template_option
@click.option("--json", "as_json", is_flag=True, help="In ra dạng JSON.")
def status(sounds_dir: Path | None, templates: tuple[str, ...], as_json: bool) -> None:
    report = sound_status(_cache(sounds_dir), templates=templates or (DEFAULT_TEMPLATE,))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"Thư mục: {report['dir']}")
    click.echo(f"Giọng sẽ đọc: {report['voice'] or 'chưa có giọng nào đủ đoạn'}")
    for name, voice in report["voices"].items():
        click.echo(f"  {name}: {voice['clips']}/{voice['needed']} đoạn")
    click.echo(f"Chuông: {'có' if report['chime'] else 'chưa có'}")
    click.echo(f"espeak-ng: {'có' if report['espeak_ng'] else 'chưa cài'}")
    click.echo(f"Giải mã MP3: {report['mp3_decoder'] or 'chưa có (cài mpg123)'}")


@sounds.command(help="Ghép thông báo cho một số (chỉ từ bộ đệm, không cần mạng).")
@click.argument("number")
@click.argument("counter", default="1")
@dir_option
@click.option("--template", default=DEFAULT_TEMPLATE, show_default=True)
@click.option("--zero-hundred", type=click.Choice(ZERO_HUNDREDS), default=DEFAULT_ZERO_HUNDRED)
@click.option("--thousand", type=click.Choice(THOUSANDS), default=DEFAULT_THOUSAND)
@click.option("--digits", is_flag=True, help="Đọc từng chữ số.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def say(
    number: str,
    counter: str,
    sounds_dir: Path | None,
    template: str,
    zero_hundred: str,
    thousand: str,
    digits: bool,
    out: Path | None,
) -> None:
    options = ReadingOptions(zero_hundred, thousand, digits)  # type: ignore[arg-type]
    cache = _cache(sounds_dir)
    try:
        announcement = announcement_ready(
            number, counter, sounds_dir=cache.root, template=template, options=options
        )
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    click.echo(announcement.text)
    click.echo(f"Giọng: {announcement.voice or 'không có'}")
    for name, lacking in announcement.passed_over:
        click.echo(f"  bỏ qua giọng {name}, thiếu: {', '.join(lacking)}")
    if announcement.missing:
        click.echo(f"  thiếu đoạn: {', '.join(announcement.missing)}")
    assert announcement.joined is not None
    if out:
        out.write_bytes(announcement.joined.read_bytes())
    click.echo(str(out or announcement.joined))


@sounds.command(help="Liệt kê các đoạn cần có và tên tệp cho bộ ghi âm (pack).")
@template_option
def clips(templates: tuple[str, ...]) -> None:
    for key in vocabulary(templates or (DEFAULT_TEMPLATE,)):
        click.echo(f"{pack_file_name(key)}\t{clip_id(key)}.wav")
