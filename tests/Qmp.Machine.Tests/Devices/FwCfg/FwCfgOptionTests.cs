using Qmp.Machine.Devices.FwCfg;

namespace Qmp.Machine.Tests.Devices.FwCfg;

public sealed class FwCfgOptionTests
{
    private const string NeedsOne = "name, plus exactly one of file, string and gen_id, are needed";

    [Fact]
    public void String_content_is_stored_without_a_terminating_nul()
    {
        var file = FwCfgOption.Parse("name=opt/greeting,string=hi there");
        Assert.Equal("opt/greeting", file.Name);
        Assert.Equal("hi there"u8.ToArray(), file.Data);
        Assert.Null(file.Warning);
    }

    [Fact]
    public void File_content_is_read_from_the_host()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [1, 2, 3]);
            var file = FwCfgOption.Parse($"name=opt/blob,file={path}");
            Assert.Equal([1, 2, 3], file.Data);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void First_element_without_equals_is_the_name_and_double_commas_are_literal()
    {
        var file = FwCfgOption.Parse("opt/a,string=x,,y");
        Assert.Equal("opt/a", file.Name);
        Assert.Equal("x,y"u8.ToArray(), file.Data);
    }

    [Theory]
    [InlineData("string=x")]
    [InlineData("name=,string=x")]
    [InlineData("name=opt/a")]
    [InlineData("name=opt/a,string=")]
    [InlineData("name=opt/a,string=x,file=/etc/hostname")]
    public void Missing_name_or_not_exactly_one_source_is_refused(string option)
    {
        Assert.Equal(NeedsOne, Assert.Throws<MachineOperationException>(() => FwCfgOption.Parse(option)).Message);
    }

    [Fact]
    public void Unreadable_file_gives_qemus_message()
    {
        var path = Path.Combine(Path.GetTempPath(), $"qmpd-missing-{Guid.NewGuid():N}");
        var e = Assert.Throws<MachineOperationException>(() => FwCfgOption.Load("opt/x", path, null));
        Assert.Equal($"can't load {path}: Failed to open file “{path}”: No such file or directory", e.Message);
    }

    [Fact]
    public void Name_outside_opt_is_accepted_with_qemus_warning()
    {
        var file = FwCfgOption.Load("etc/mine", null, "v");
        Assert.Equal("externally provided fw_cfg item names should be prefixed with \"opt/\"", file.Warning);
    }

    [Fact]
    public void Name_over_55_bytes_is_refused()
    {
        var e = Assert.Throws<MachineOperationException>(() => FwCfgOption.Load("opt/" + new string('n', 52), null, "v"));
        Assert.Equal("name too long (max. 55 char)", e.Message);
    }

    [Fact]
    public void Unknown_parameter_and_gen_id_without_objects_are_refused()
    {
        Assert.Equal("Invalid parameter 'bogus'", Assert.Throws<MachineOperationException>(() => FwCfgOption.Parse("name=opt/a,bogus=1")).Message);
        Assert.Equal("Cannot find object ID 'gen0'", Assert.Throws<MachineOperationException>(() => FwCfgOption.Parse("name=opt/a,gen_id=gen0")).Message);
    }

    [Fact]
    public void Parsed_file_is_served_by_the_device()
    {
        var file = FwCfgOption.Parse("name=opt/cmd,string=run");
        var fw = new Qmp.Machine.Devices.FwCfg.FwCfg();
        fw.AddFile(file.Name, file.Data);
        var board = new TestBoard();
        board.Realize(fw);
        var select = fw.Files.Single(f => f.Name == "opt/cmd").Select;
        board.Io.Write(0x510, 2, select);
        Assert.Equal("run"u8.ToArray(), new[] { board.In(0x511), board.In(0x511), board.In(0x511) });
    }
}
