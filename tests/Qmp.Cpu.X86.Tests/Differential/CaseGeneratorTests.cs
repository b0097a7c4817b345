using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

public sealed class CaseGeneratorTests
{
    private static readonly Lazy<IReadOnlyList<CpuCase>> _all = new(() => new CaseGenerator().GenerateAll());

    [Fact]
    public void Generator_is_deterministic_for_a_seed()
    {
        var first = new CaseGenerator(7).Generate(Code.Adc_rm32_r32, 20);
        var second = new CaseGenerator(7).Generate(Code.Adc_rm32_r32, 20);
        var other = new CaseGenerator(8).Generate(Code.Adc_rm32_r32, 20);

        Assert.Equal(first.Select(c => c.Name), second.Select(c => c.Name));
        Assert.All(first.Zip(second), p =>
        {
            Assert.Equal(p.First.Code, p.Second.Code);
            Assert.Equal(p.First.Registers, p.Second.Registers);
            Assert.Equal(p.First.Eflags, p.Second.Eflags);
            Assert.Equal(p.First.Data, p.Second.Data);
        });
        Assert.NotEqual(first.Select(c => Convert.ToHexString(c.Code)), other.Select(c => Convert.ToHexString(c.Code)));
    }

    [Fact]
    public void Generated_set_covers_hundreds_of_forms_in_every_family()
    {
        var all = _all.Value;
        var forms = all.Select(c => c.Form).Distinct().ToList();
        var families = forms.GroupBy(FormCatalog.FamilyOf).ToDictionary(g => g.Key, g => g.Count());

        Assert.True(all.Count >= 2000, $"only {all.Count} cases");
        Assert.True(forms.Count >= 400, $"only {forms.Count} forms");
        Assert.Equal(FormCatalog.Selected.Count, forms.Count);
        Assert.All(Enum.GetValues<FormFamily>(), f => Assert.True(families.ContainsKey(f), $"no form of family {f}"));
        Code[] required =
        [
            Code.Add_rm8_r8, Code.Adc_AX_imm16, Code.Sbb_rm32_imm8, Code.Neg_rm16, Code.Test_rm8_imm8, Code.Inc_r16, Code.Dec_rm8,
            Code.Mov_r8_imm8, Code.Mov_moffs32_EAX, Code.Lea_r32_m, Code.Movsx_r32_rm8, Code.Movzx_r16_rm8, Code.Cbw, Code.Cwde, Code.Cwd, Code.Cdq,
            Code.Xchg_rm8_r8, Code.Bswap_r32, Code.Mul_rm8, Code.Imul_r32_rm32_imm8, Code.Div_rm16, Code.Idiv_rm32,
            Code.Shl_rm8_CL, Code.Sar_rm32_imm8, Code.Rol_rm16_1, Code.Rcl_rm8_CL, Code.Rcr_rm32_imm8, Code.Shld_rm16_r16_CL, Code.Shrd_rm32_r32_imm8,
            Code.Bt_rm32_r32, Code.Bts_rm16_imm8, Code.Btr_rm32_r32, Code.Btc_rm16_r16, Code.Bsf_r32_rm32, Code.Bsr_r16_rm16,
            Code.Daa, Code.Das, Code.Aaa, Code.Aas, Code.Aam_imm8, Code.Aad_imm8,
            Code.Movsb_m8_m8, Code.Cmpsd_m32_m32, Code.Scasw_AX_m16, Code.Lodsb_AL_m8, Code.Stosd_m32_EAX,
            Code.Push_r16, Code.Pushd_imm8, Code.Pop_rm32, Code.Pushad, Code.Popaw, Code.Pushfd, Code.Popfw, Code.Enterd_imm16_imm8, Code.Leavew,
            Code.Jo_rel8_32, Code.Jg_rel32_32, Code.Jmp_rel8_32, Code.Jmp_rm32, Code.Loop_rel8_32_ECX, Code.Loopne_rel8_32_CX, Code.Jecxz_rel8_32, Code.Jcxz_rel8_32,
            Code.Call_rel32_32, Code.Call_rm32, Code.Retnd, Code.Retnd_imm16,
            Code.Setb_rm8, Code.Cmovg_r32_rm32, Code.Cmovp_r16_rm16, Code.Lahf, Code.Sahf, Code.Clc, Code.Std, Code.Cmc, Code.Salc,
            Code.Cmpxchg_rm8_r8, Code.Cmpxchg8b_m64, Code.Xadd_rm16_r16, Code.Bound_r16_m1616, Code.Bound_r32_m3232, Code.Xlat_m8,
            Code.Int3, Code.Into, Code.Int1, Code.Ud2, Code.Arpl_rm16_r16, Code.Nop_rm32,
        ];
        Assert.Empty(required.Except(forms));
    }

    [Fact]
    public void Case_names_are_unique()
    {
        var duplicates = _all.Value.GroupBy(c => c.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToList();

        Assert.Empty(duplicates);
    }

    [Fact]
    public void Every_case_holds_its_form_and_only_complete_instructions()
    {
        foreach (var c in _all.Value)
        {
            var codes = CaseFormatter.Decode(c.Code).Select(i => i.Code).ToList();

            Assert.True(codes.Contains(c.Form), $"{c.Name} does not contain its form");
            Assert.DoesNotContain(Code.INVALID, codes);
            Assert.Equal(CpuLayout.DataSize, c.Data.Length);
            Assert.Equal(CpuLayout.EffectiveInputFlags(c.Eflags), c.Eflags);
        }
    }

    [Fact]
    public void Memory_operands_stay_in_the_data_window_unless_a_fault_is_intended()
    {
        var outside = new List<string>();
        foreach (var c in _all.Value.Where(c => !c.Name.Contains(" pf", StringComparison.Ordinal) && !c.Name.Contains("runaway", StringComparison.Ordinal)))
        {
            var instruction = CaseFormatter.Decode(c.Code)[0];
            if (instruction.Code != c.Form || instruction.Mnemonic is Mnemonic.Lea or Mnemonic.Nop or Mnemonic.Ud0 or Mnemonic.Ud1)
                continue;
            for (var i = 0; i < instruction.OpCount; i++)
            {
                if (instruction.GetOpKind(i) is not (OpKind.Memory or OpKind.MemorySegESI or OpKind.MemoryESEDI))
                    continue;
                var address = instruction.GetVirtualAddress(i, 0, (register, _, _) => Read(c, register));
                if (!CpuLayout.IsInDataWindow((uint)address, Math.Max(1, instruction.MemorySize.GetSize())))
                    outside.Add($"{c.Name}: operand {i} at {address:X8}");
            }

            if (instruction.IsStackInstruction && !CpuLayout.IsInDataWindow(c.StackPointer - 64, 128))
                outside.Add($"{c.Name}: ESP {c.StackPointer:X8} leaves no room");
        }

        Assert.Empty(outside);
    }

    [Fact]
    public void Undefined_flags_are_left_out_of_the_compared_mask()
    {
        var all = _all.Value;

        Assert.All(all, c => Assert.Equal(CpuLayout.ComparedFlags & ~c.UndefinedFlags, c.FlagsMask));
        Assert.All(all.Where(c => c.Form == Code.Div_rm32), c => Assert.Equal(CpuLayout.StatusFlags, c.UndefinedFlags));
        Assert.All(all.Where(c => c.Form == Code.Add_rm32_r32), c => Assert.Equal(0u, c.UndefinedFlags));
        Assert.All(all.Where(c => c.Form == Code.And_rm32_r32), c => Assert.Equal(CpuLayout.AF, c.UndefinedFlags));
        Assert.Contains(all, c => c.Form == Code.Shl_rm32_CL && c.UndefinedFlags == 0);
        Assert.Contains(all, c => c.Form == Code.Shl_rm32_CL && c.UndefinedFlags == (CpuLayout.OF | CpuLayout.AF));
    }

    [Theory]
    [InlineData(Mnemonic.Shl, 32, 0, 0u)]
    [InlineData(Mnemonic.Shl, 32, 1, CpuLayout.AF)]
    [InlineData(Mnemonic.Shl, 32, 2, CpuLayout.AF | CpuLayout.OF)]
    [InlineData(Mnemonic.Shr, 8, 8, CpuLayout.AF | CpuLayout.OF | CpuLayout.CF)]
    [InlineData(Mnemonic.Sar, 8, 9, CpuLayout.AF | CpuLayout.OF)]
    [InlineData(Mnemonic.Rol, 16, 1, 0u)]
    [InlineData(Mnemonic.Rcr, 8, 9, CpuLayout.OF)]
    [InlineData(Mnemonic.Rcl, 8, 0, 0u)]
    [InlineData(Mnemonic.Shld, 16, 16, CpuLayout.AF | CpuLayout.OF)]
    public void Shift_flag_rules_follow_the_masked_count(Mnemonic mnemonic, int width, int count, uint undefined) =>
        Assert.Equal(undefined, FlagRules.ShiftUndefined(mnemonic, width, count));

    [Fact]
    public void Skipped_forms_have_reasons_and_are_not_generated()
    {
        var skipped = FormCatalog.Skipped;

        Assert.Empty(skipped.Keys.Intersect(FormCatalog.Selected));
        Assert.All(skipped.Values, reason => Assert.False(string.IsNullOrWhiteSpace(reason)));
        Code[] mustSkip =
        [
            Code.Hlt, Code.Cli, Code.Sti, Code.In_AL_DX, Code.Outsb_DX_m8, Code.Int_imm8, Code.Iretd, Code.Retfd, Code.Call_ptr1632,
            Code.Jmp_m1632, Code.Mov_Sreg_rm16, Code.Pushd_DS, Code.Popd_ES, Code.Lds_r32_m1632, Code.Sgdt_m1632, Code.Lar_r32_r32m16,
            Code.Jmp_rel16, Code.Retnw, Code.Loop_rel8_16_ECX, Code.Wait, Code.Bswap_r16,
        ];
        Assert.Empty(mustSkip.Except(skipped.Keys));
    }

    private static ulong Read(CpuCase c, Register register)
    {
        if (register is Register.ES or Register.CS or Register.SS or Register.DS)
            return 0;
        var (index, shift, bits) = CaseBuilder.Locate(register);
        var value = c.Registers[index] >> shift;
        return bits == 32 ? value : value & ((1u << bits) - 1);
    }
}
